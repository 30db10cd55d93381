/**
 * Planning a run of the source, in the connector: which tables and CTID ranges to read ({@code
 * RangePlanner}), which are left under which exported snapshot ({@code RemainingRanges}, {@code
 * ExportedSnapshot}), how they are dealt to tasks ({@code TaskAssigner}) and written into and read
 * back from task configurations ({@code TaskRanges}); {@code SourcePlan} holds one run's plan.
 * Reads the catalog and the replication setup; reads no rows.
 */
package io.pgcopy.connect.source.plan;
