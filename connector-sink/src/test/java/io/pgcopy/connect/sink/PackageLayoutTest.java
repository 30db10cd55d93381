package io.pgcopy.connect.sink;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The sink's packages hold one job each (see their package-info): the packages below {@code
 * io.pgcopy.connect.sink} form no cycle, and none of them reaches up into the connector's own
 * package, which alone sees them all.
 */
class PackageLayoutTest {
  private static final JavaClasses MAIN =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("io.pgcopy.connect.sink");

  @Test
  void packagesFormNoCycle() {
    slices().matching("io.pgcopy.connect.sink.(*)..").should().beFreeOfCycles().check(MAIN);
  }

  @Test
  void nothingBelowTheConnectorPackageImportsIt() {
    noClasses()
        .that()
        .resideInAPackage("io.pgcopy.connect.sink.*..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.pgcopy.connect.sink")
        .check(MAIN);
  }
}
