import MetricModel
import PipelineEvents
import Shipping

/// Builds a ``Summary`` from one scrape of the registry, picking the families it needs by name:
///
/// - host: `node_cpu_seconds_total` (as a rate over `rates`), `node_memory_MemTotal_bytes` and
///   `_MemAvailable_bytes`, `node_load1/5/15`, `node_filesystem_{size,free,avail}_bytes` and
///   `_readonly` (the fullest writable filesystem);
/// - microVMs: `microvm_info`, `microvm_up`, `microvm_hypervisor_status`,
///   `microvm_restart_pending`, `microvm_memory_bytes`, `microvm_cpu_usage_seconds_total`;
/// - shipping: `lookout_elasticsearch_*`, `lookout_journal_lag_seconds`,
///   `lookout_events_shipping_backlog` and `_lag_seconds` (when something ships them);
/// - journal errors: `lookout_journal_entries_total` over `errors`.
package enum SummaryBuilder {
    /// How many units the journal errors list at most.
    static let errorUnits = 5

    /// The summary of `families`. `rates` and `errors` are the intervals CPU rates and error
    /// increases cover (their `end` is a reading of this scrape or one just after it); runs, the
    /// last shipping error and the warnings come from outside the registry.
    package static func summary(
        version: String, hostname: String, time: Int64, families: [MetricFamily], rates: ReadingInterval?,
        errors: ReadingInterval?, lastShippingError: ShippingError?, runs: [PipelineRun]?, warnings: [String]
    ) -> Summary {
        let metrics = Metrics(families)
        let reading = rates?.end ?? CounterReading(families, at: .now)
        return Summary(
            version: version, hostname: hostname, time: time,
            host: host(metrics, cpu: reading.hostCPU, rates: rates), microVMs: microVMs(metrics, rates: rates), runs: runs,
            shipping: shipping(metrics, lastError: lastShippingError), journalErrors: journalErrors(errors),
            warnings: warnings)
    }

    /// The families of one scrape by name.
    private struct Metrics {
        private let byName: [String: MetricFamily]

        init(_ families: [MetricFamily]) {
            byName = Dictionary(families.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        }

        func samples(_ name: String) -> [Sample] { byName[name]?.samples ?? [] }

        /// The value of an unlabelled family (the first sample), when present and finite.
        func value(_ name: String) -> Double? { samples(name).first.flatMap { $0.value.isFinite ? $0.value : nil } }

        /// The family's finite values keyed by one label.
        func values(_ name: String, by label: String) -> [String: Double] {
            var values: [String: Double] = [:]
            for sample in samples(name) where sample.value.isFinite {
                if let key = sample.label(label) { values[key] = sample.value }
            }
            return values
        }

        /// The sum of every finite sample of the family; nil when it is absent.
        func sum(_ name: String) -> Double? {
            guard let family = byName[name] else { return nil }
            return family.samples.filter(\.value.isFinite).reduce(0) { $0 + $1.value }
        }
    }

    private static func host(_ metrics: Metrics, cpu: CounterReading.HostCPUTime?, rates: ReadingInterval?) -> Summary.Host {
        var host = Summary.Host()
        if let current = cpu {
            var percent: Double?
            if let interval = rates, let start = interval.start.hostCPU, current.total > start.total {
                percent = min(max((current.busy - start.busy) / (current.total - start.total) * 100, 0), 100)
            }
            host.cpu = Summary.CPU(busyPercent: percent, cpus: current.cpus, windowSeconds: rates?.seconds)
        }
        if let total = metrics.value("node_memory_MemTotal_bytes"), let available = metrics.value("node_memory_MemAvailable_bytes") {
            host.memory = Summary.Memory(totalBytes: total, availableBytes: available)
        }
        if let one = metrics.value("node_load1"), let five = metrics.value("node_load5"), let fifteen = metrics.value("node_load15") {
            host.load = Summary.Load(one: one, five: five, fifteen: fifteen)
        }
        host.fullestFilesystem = fullestFilesystem(metrics)
        return host
    }

    /// The writable filesystem with the highest use; read-only ones (squashfs images, ISO
    /// mounts) are always full and say nothing.
    private static func fullestFilesystem(_ metrics: Metrics) -> Summary.Filesystem? {
        func byLabels(_ name: String) -> [[Label]: Double] {
            Dictionary(metrics.samples(name).filter(\.value.isFinite).map { ($0.labels, $0.value) }, uniquingKeysWith: { first, _ in first })
        }
        let free = byLabels("node_filesystem_free_bytes"), available = byLabels("node_filesystem_avail_bytes")
        let readOnly = byLabels("node_filesystem_readonly")
        var fullest: Summary.Filesystem?
        for sample in metrics.samples("node_filesystem_size_bytes") where sample.value.isFinite && sample.value > 0 {
            guard readOnly[sample.labels] != 1, let freeBytes = free[sample.labels], let availableBytes = available[sample.labels] else { continue }
            let filesystem = Summary.Filesystem(
                mountpoint: sample.label("mountpoint") ?? "", device: sample.label("device") ?? "", fstype: sample.label("fstype") ?? "",
                sizeBytes: sample.value, freeBytes: freeBytes, availableBytes: availableBytes)
            if (filesystem.usedPercent ?? 0) > (fullest?.usedPercent ?? -1) { fullest = filesystem }
        }
        return fullest
    }

    private static func microVMs(_ metrics: Metrics, rates: ReadingInterval?) -> [Summary.MicroVM]? {
        let info = metrics.samples("microvm_info")
        guard !info.isEmpty else { return nil }
        let up = metrics.values("microvm_up", by: "vm"), pending = metrics.values("microvm_restart_pending", by: "vm")
        let memory = metrics.values("microvm_memory_bytes", by: "vm")
        var status: [String: String] = [:]
        for sample in metrics.samples("microvm_hypervisor_status") where sample.value == 1 {
            if let vm = sample.label("vm"), let state = sample.label("status") { status[vm] = state }
        }
        return info.compactMap { sample -> Summary.MicroVM? in
            guard let name = sample.label("vm") else { return nil }
            let state: String
            switch up[name] {
            case 1?: state = status[name] ?? "running"
            case nil: state = "unknown"
            default: state = "stopped"
            }
            var cpuPercent: Double?
            if let interval = rates, interval.seconds > 0, let end = interval.end.microVMCPU?[name],
               let start = interval.start.microVMCPU?[name] {
                // A counter that went down belongs to a new cgroup: the VM restarted in between.
                let used = end >= start ? end - start : end
                cpuPercent = used / interval.seconds * 100
            }
            let hypervisor = sample.label("hypervisor")
            return Summary.MicroVM(
                name: name, state: state, hypervisor: hypervisor?.isEmpty == false ? hypervisor : nil, cpuPercent: cpuPercent,
                memoryBytes: memory[name], restartPending: pending[name] == 1)
        }.sorted { $0.name < $1.name }
    }

    private static func shipping(_ metrics: Metrics, lastError: ShippingError?) -> Summary.Shipping? {
        var elasticsearch: Summary.Elasticsearch?
        if let acknowledged = metrics.sum("lookout_elasticsearch_documents_acknowledged_total") {
            let lastSuccess = metrics.value("lookout_elasticsearch_last_success_timestamp_seconds") ?? 0
            elasticsearch = Summary.Elasticsearch(
                documentsAcknowledged: acknowledged,
                documentsDeadLettered: metrics.value("lookout_elasticsearch_documents_dead_lettered_total") ?? 0,
                consecutiveFailures: Int(metrics.value("lookout_elasticsearch_consecutive_failures") ?? 0),
                lastSuccess: lastSuccess > 0 ? Int64(lastSuccess * 1_000_000) : nil, lastError: lastError)
        }
        // The journal's lag means something only while a shipper acknowledges entries.
        let journalLag = elasticsearch == nil ? nil : metrics.value("lookout_journal_lag_seconds")
        let journalWaiting = elasticsearch == nil ? nil : metrics.value("lookout_journal_unacknowledged_entries")
        let backlog = metrics.sum("lookout_events_shipping_backlog"), eventsLag = metrics.value("lookout_events_shipping_lag_seconds")
        let events = backlog == nil && eventsLag == nil ? nil : Summary.EventsShipping(backlog: backlog, lagSeconds: eventsLag)
        guard elasticsearch != nil || events != nil else { return nil }
        return Summary.Shipping(elasticsearch: elasticsearch, journalLagSeconds: journalLag, journalWaiting: journalWaiting, events: events)
    }

    private static func journalErrors(_ interval: ReadingInterval?) -> Summary.JournalErrors? {
        guard let interval, let end = interval.end.unitErrors else { return nil }
        let start = interval.start.unitErrors ?? [:]
        let units = end.compactMap { unit, count -> Summary.UnitErrors? in
            let before = start[unit] ?? 0
            let increase = count >= before ? count - before : count
            return increase > 0 ? Summary.UnitErrors(unit: unit, entries: increase) : nil
        }
        .sorted { $0.entries != $1.entries ? $0.entries > $1.entries : $0.unit < $1.unit }
        return Summary.JournalErrors(windowSeconds: interval.seconds, units: Array(units.prefix(errorUnits)))
    }
}
