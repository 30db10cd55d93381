package io.pgcopy.connect.common;

import java.lang.management.ManagementFactory;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers a task's metrics MBean as {@code
 * io.pgcopy.connect:type=<type>,connector=<name>,task=<n>} on the platform MBean server, where JMX
 * tools and exporters (jconsole, the Prometheus JMX exporter Strimzi uses) find it.
 */
public final class Mbeans {
  private static final Logger log = LoggerFactory.getLogger(Mbeans.class);

  /** Connect names task threads "task-thread-<connector>-<task>". */
  private static final Pattern TASK_THREAD = Pattern.compile("task-thread-(.+)-(\\d+)");

  private Mbeans() {}

  /** The task number from the calling task thread's name, or -1. */
  public static int taskNumber() {
    Matcher m = TASK_THREAD.matcher(Thread.currentThread().getName());
    return m.matches() ? Integer.parseInt(m.group(2)) : -1;
  }

  /**
   * Registers {@code mbean}, replacing one left under the same name; returns the name, or null when
   * JMX refused it.
   */
  public static ObjectName register(String type, String connector, int task, Object mbean) {
    return registerAs(
        "io.pgcopy.connect:type="
            + type
            + ",connector="
            + ObjectName.quote(connector)
            + ",task="
            + task,
        connector,
        mbean);
  }

  /**
   * Registers a connector's own {@code mbean} (no task), as {@link #register(String, String, int,
   * Object)} does.
   */
  public static ObjectName register(String type, String connector, Object mbean) {
    return registerAs(
        "io.pgcopy.connect:type=" + type + ",connector=" + ObjectName.quote(connector),
        connector,
        mbean);
  }

  private static ObjectName registerAs(String objectName, String connector, Object mbean) {
    try {
      ObjectName name = new ObjectName(objectName);
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      if (server.isRegistered(name)) {
        server.unregisterMBean(name);
      }
      server.registerMBean(mbean, name);
      return name;
    } catch (JMException e) {
      log.warn("Registering metrics {} for {} failed: {}", objectName, connector, e.toString());
      return null;
    }
  }

  public static void unregister(ObjectName name) {
    if (name == null) {
      return;
    }
    try {
      ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
    } catch (JMException e) {
      log.debug("Unregistering {}: {}", name, e.toString());
    }
  }
}
