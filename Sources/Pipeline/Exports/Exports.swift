// A temporary umbrella while the restructure narrows each file's imports: `import Pipeline`
// still sees every core module. It goes once nothing imports it.
@_exported import DaemonSummary
@_exported import Gate
@_exported import LookoutSupport
@_exported import MetricModel
@_exported import PipelineEvents
@_exported import PromQL
@_exported import Rules
@_exported import SeriesHistory
@_exported import Shipping
