package io.pgcopy.connect.source;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The source's packages hold one job each (see their package-info): the packages below {@code
 * io.pgcopy.connect.source} form no cycle, and none of them reaches up into the connector's own
 * package, which alone sees them all.
 */
class PackageLayoutTest {
  private static final JavaClasses MAIN =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("io.pgcopy.connect.source");

  @Test
  void packagesFormNoCycle() {
    slices().matching("io.pgcopy.connect.source.(*)..").should().beFreeOfCycles().check(MAIN);
  }

  @Test
  void nothingBelowTheConnectorPackageImportsIt() {
    noClasses()
        .that()
        .resideInAPackage("io.pgcopy.connect.source.*..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.pgcopy.connect.source")
        .check(MAIN);
  }
}
