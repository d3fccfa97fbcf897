import LookoutSupport
import PipelineEvents
import Shipping

/// What `GET /api/v1/summary` answers and `lookout summary` shows a person: the host at a
/// glance, its microVMs, the latest pipeline runs, how shipping to Elasticsearch is going and
/// which units log the most errors. A section is nil when what feeds it is off (its collector
/// disabled, the events API off, nothing shipped); its JSON key is then `null`, so the keys a
/// script reads never come and go.
///
/// ``SummaryBuilder`` makes one from a scrape; ``json`` and ``init(json:)`` are the wire form.
package struct Summary: Sendable, Equatable {
    /// The daemon's version.
    package var version: String
    /// The host's name.
    package var hostname: String
    /// When the summary was made, microseconds since the epoch.
    package var time: Int64
    /// CPU, memory, load and the fullest filesystem.
    package var host: Host
    /// The microVMs by name; nil when the microvm collector has no data.
    package var microVMs: [MicroVM]?
    /// The latest pipeline runs, newest first; nil while the events API is off.
    package var runs: [PipelineRun]?
    /// Shipping to Elasticsearch; nil when nothing is shipped.
    package var shipping: Shipping?
    /// The units that logged the most errors lately; nil when the journal is not read.
    package var journalErrors: JournalErrors?
    /// What could not be summarised (a failing collector, an unreadable store), one line each.
    package var warnings: [String]

    /// Creates a summary from its sections.
    package init(version: String, hostname: String, time: Int64, host: Host, microVMs: [MicroVM]?, runs: [PipelineRun]?,
                shipping: Shipping?, journalErrors: JournalErrors?, warnings: [String]) {
        self.version = version
        self.hostname = hostname
        self.time = time
        self.host = host
        self.microVMs = microVMs
        self.runs = runs
        self.shipping = shipping
        self.journalErrors = journalErrors
        self.warnings = warnings
    }

    /// The host section; each part is nil when its collector is off.
    package struct Host: Sendable, Equatable {
        /// CPU busy time (`cpu` collector).
        package var cpu: CPU?
        /// Memory (`meminfo`).
        package var memory: Memory?
        /// Load averages (`loadavg`).
        package var load: Load?
        /// The writable filesystem with the highest use (`filesystem`).
        package var fullestFilesystem: Filesystem?

        /// Creates the section.
        package init(cpu: CPU? = nil, memory: Memory? = nil, load: Load? = nil, fullestFilesystem: Filesystem? = nil) {
            self.cpu = cpu
            self.memory = memory
            self.load = load
            self.fullestFilesystem = fullestFilesystem
        }
    }

    /// How busy the host's CPUs were over a recent interval.
    package struct CPU: Sendable, Equatable {
        /// Percent of all CPUs' time not idle, in iowait or stolen, as node-mixin's
        /// `instance:node_cpu_utilisation:rate5m`; nil when no CPU time passed in the interval.
        package var busyPercent: Double?
        /// How many CPUs the kernel reports.
        package var cpus: Int
        /// The interval the percentage covers, in seconds.
        package var windowSeconds: Double?

        /// Creates the part.
        package init(busyPercent: Double?, cpus: Int, windowSeconds: Double?) {
            self.busyPercent = busyPercent
            self.cpus = cpus
            self.windowSeconds = windowSeconds
        }
    }

    /// Memory in use: what is not available (MemTotal − MemAvailable).
    package struct Memory: Sendable, Equatable {
        /// MemTotal.
        package var totalBytes: Double
        /// MemAvailable.
        package var availableBytes: Double

        /// Creates the part.
        package init(totalBytes: Double, availableBytes: Double) {
            self.totalBytes = totalBytes
            self.availableBytes = availableBytes
        }

        /// Bytes in use.
        package var usedBytes: Double { totalBytes - availableBytes }
        /// Percent in use; nil when the total is zero.
        package var usedPercent: Double? { totalBytes > 0 ? usedBytes / totalBytes * 100 : nil }
    }

    /// The load averages over 1, 5 and 15 minutes.
    package struct Load: Sendable, Equatable {
        /// node_load1.
        package var one: Double
        /// node_load5.
        package var five: Double
        /// node_load15.
        package var fifteen: Double

        /// Creates the part.
        package init(one: Double, five: Double, fifteen: Double) {
            self.one = one
            self.five = five
            self.fifteen = fifteen
        }
    }

    /// One filesystem's use, as `df` reckons it.
    package struct Filesystem: Sendable, Equatable {
        /// Where it is mounted.
        package var mountpoint: String
        /// The mounted device.
        package var device: String
        /// The filesystem type.
        package var fstype: String
        /// Its size.
        package var sizeBytes: Double
        /// Free bytes, reserved blocks included.
        var freeBytes: Double
        /// Bytes an unprivileged user may still write.
        package var availableBytes: Double

        /// Creates the part.
        package init(mountpoint: String, device: String, fstype: String, sizeBytes: Double, freeBytes: Double, availableBytes: Double) {
            self.mountpoint = mountpoint
            self.device = device
            self.fstype = fstype
            self.sizeBytes = sizeBytes
            self.freeBytes = freeBytes
            self.availableBytes = availableBytes
        }

        /// `df`'s Use%: used / (used + available), used being size − free, so that blocks
        /// reserved for root count as unusable; nil for an empty filesystem.
        package var usedPercent: Double? {
            let used = sizeBytes - freeBytes
            return used + availableBytes > 0 ? used / (used + availableBytes) * 100 : nil
        }
    }

    /// One microVM.
    package struct MicroVM: Sendable, Equatable {
        /// Its name.
        package var name: String
        /// `stopped`, or the run state its hypervisor reports (`running`, `paused`, …), or
        /// `running` when the hypervisor did not answer.
        package var state: String
        /// Its hypervisor (qemu, cloud-hypervisor, firecracker, …), when known.
        package var hypervisor: String?
        /// CPU time of its unit over the interval, in percent of one host CPU (as `top`);
        /// nil when it has no cgroup (stopped) or no earlier reading.
        package var cpuPercent: Double?
        /// Memory charged to its unit.
        package var memoryBytes: Double?
        /// Whether a new runner is installed that it does not run yet.
        package var restartPending: Bool

        /// Creates an entry.
        package init(name: String, state: String, hypervisor: String?, cpuPercent: Double?, memoryBytes: Double?, restartPending: Bool) {
            self.name = name
            self.state = state
            self.hypervisor = hypervisor
            self.cpuPercent = cpuPercent
            self.memoryBytes = memoryBytes
            self.restartPending = restartPending
        }
    }

    /// Shipping to Elasticsearch: the shipper's own state, and how far behind each source is.
    package struct Shipping: Sendable, Equatable {
        /// The bulk shipper; nil when the journal is not shipped.
        package var elasticsearch: Elasticsearch?
        /// `lookout_journal_lag_seconds`, while the journal is shipped.
        package var journalLagSeconds: Double?
        /// `lookout_journal_unacknowledged_entries`: entries read and waiting for Elasticsearch.
        package var journalWaiting: Double?
        /// Pipeline events not yet acknowledged, and how old the oldest is; nil when events are
        /// not shipped.
        package var events: EventsShipping?

        /// Creates the section.
        package init(elasticsearch: Elasticsearch?, journalLagSeconds: Double?, journalWaiting: Double? = nil, events: EventsShipping?) {
            self.elasticsearch = elasticsearch
            self.journalLagSeconds = journalLagSeconds
            self.journalWaiting = journalWaiting
            self.events = events
        }
    }

    /// The bulk shipper's state.
    package struct Elasticsearch: Sendable, Equatable {
        /// Documents Elasticsearch confirmed (indexed or already there).
        package var documentsAcknowledged: Double
        /// Documents refused for good.
        package var documentsDeadLettered: Double
        /// Bulk requests failed in a row; 0 while healthy.
        package var consecutiveFailures: Int
        /// When the last bulk answer was understood; nil before the first.
        package var lastSuccess: Int64?
        /// The most recent failure, healed or not.
        package var lastError: ShippingError?

        /// Creates the part.
        package init(documentsAcknowledged: Double, documentsDeadLettered: Double, consecutiveFailures: Int,
                    lastSuccess: Int64?, lastError: ShippingError?) {
            self.documentsAcknowledged = documentsAcknowledged
            self.documentsDeadLettered = documentsDeadLettered
            self.consecutiveFailures = consecutiveFailures
            self.lastSuccess = lastSuccess
            self.lastError = lastError
        }
    }

    /// Pipeline events on their way to Elasticsearch.
    package struct EventsShipping: Sendable, Equatable {
        /// `lookout_events_shipping_backlog`: stored events not yet acknowledged.
        package var backlog: Double?
        /// `lookout_events_shipping_lag_seconds`.
        package var lagSeconds: Double?

        /// Creates the part.
        package init(backlog: Double?, lagSeconds: Double?) {
            self.backlog = backlog
            self.lagSeconds = lagSeconds
        }
    }

    /// The units with the most journal entries of priority err or worse (0–3) in a recent window.
    package struct JournalErrors: Sendable, Equatable {
        /// How far back the window reaches, in seconds (about 15 minutes, less after a start).
        package var windowSeconds: Double
        /// The units, most entries first; `""` is entries without a unit (the kernel's), `other`
        /// the units past `--journal.max-units`.
        package var units: [UnitErrors]

        /// Creates the section.
        package init(windowSeconds: Double, units: [UnitErrors]) {
            self.windowSeconds = windowSeconds
            self.units = units
        }
    }

    /// One unit's error entries in the window.
    package struct UnitErrors: Sendable, Equatable {
        /// The unit.
        package var unit: String
        /// Entries of priority 0–3 it logged in the window.
        package var entries: Double

        /// Creates an entry.
        package init(unit: String, entries: Double) {
            self.unit = unit
            self.entries = entries
        }
    }
}

// MARK: - JSON

extension Summary {
    /// The summary as one line of JSON: times in RFC 3339, sections `null` when off.
    package var json: [UInt8] {
        var object = JSONObjectWriter()
        object.string("version", version)
        object.string("hostname", hostname)
        object.time("time", time)
        object.object("host") { host in
            if let cpu = self.host.cpu {
                host.object("cpu") { part in
                    part.orNull("busy_percent", cpu.busyPercent)
                    part.integer("cpus", Int64(cpu.cpus))
                    part.orNull("window_seconds", cpu.windowSeconds)
                }
            } else {
                host.null("cpu")
            }
            if let memory = self.host.memory {
                host.object("memory") { part in
                    part.count("total_bytes", memory.totalBytes)
                    part.count("available_bytes", memory.availableBytes)
                    part.count("used_bytes", memory.usedBytes)
                    part.orNull("used_percent", memory.usedPercent)
                }
            } else {
                host.null("memory")
            }
            if let load = self.host.load {
                host.object("load") { part in
                    part.number("load1", load.one)
                    part.number("load5", load.five)
                    part.number("load15", load.fifteen)
                }
            } else {
                host.null("load")
            }
            if let filesystem = self.host.fullestFilesystem {
                host.object("fullest_filesystem") { part in
                    part.string("mountpoint", filesystem.mountpoint)
                    part.string("device", filesystem.device)
                    part.string("fstype", filesystem.fstype)
                    part.count("size_bytes", filesystem.sizeBytes)
                    part.count("free_bytes", filesystem.freeBytes)
                    part.count("avail_bytes", filesystem.availableBytes)
                    part.orNull("used_percent", filesystem.usedPercent)
                }
            } else {
                host.null("fullest_filesystem")
            }
        }
        if let microVMs {
            object.array("microvms", microVMs.map { vm in
                var entry = JSONObjectWriter()
                entry.string("name", vm.name)
                entry.string("state", vm.state)
                entry.orNull("hypervisor", vm.hypervisor)
                entry.orNull("cpu_percent", vm.cpuPercent)
                entry.countOrNull("memory_bytes", vm.memoryBytes)
                entry.boolean("restart_pending", vm.restartPending)
                return entry.finished()
            })
        } else {
            object.null("microvms")
        }
        if let runs {
            object.array("runs", runs.map(\.json))
        } else {
            object.null("runs")
        }
        if let shipping {
            object.object("shipping") { section in
                if let elasticsearch = shipping.elasticsearch {
                    section.object("elasticsearch") { part in
                        part.count("documents_acknowledged", elasticsearch.documentsAcknowledged)
                        part.count("documents_dead_lettered", elasticsearch.documentsDeadLettered)
                        part.integer("consecutive_failures", Int64(elasticsearch.consecutiveFailures))
                        part.orNullTime("last_success", elasticsearch.lastSuccess)
                        if let error = elasticsearch.lastError {
                            part.object("last_error") { last in
                                last.time("time", error.time)
                                last.string("message", error.message)
                            }
                        } else {
                            part.null("last_error")
                        }
                    }
                } else {
                    section.null("elasticsearch")
                }
                if let lag = shipping.journalLagSeconds {
                    section.object("journal") { part in
                        part.number("lag_seconds", lag)
                        if let waiting = shipping.journalWaiting { part.count("waiting", waiting) }
                    }
                } else {
                    section.null("journal")
                }
                if let events = shipping.events {
                    section.object("events") { part in
                        part.countOrNull("backlog", events.backlog)
                        part.orNull("lag_seconds", events.lagSeconds)
                    }
                } else {
                    section.null("events")
                }
            }
        } else {
            object.null("shipping")
        }
        if let journalErrors {
            object.object("journal_errors") { section in
                section.number("window_seconds", journalErrors.windowSeconds)
                section.array("units", journalErrors.units.map { unit in
                    var entry = JSONObjectWriter()
                    entry.string("unit", unit.unit)
                    entry.number("entries", unit.entries)
                    return entry.finished()
                })
            }
        } else {
            object.null("journal_errors")
        }
        object.strings("warnings", warnings)
        return object.finished()
    }

    /// The summary that ``json`` wrote, read back. Sections the JSON lacks are nil, so a daemon
    /// of another version still reads; a member of the wrong kind is an error naming it.
    package init(json: JSONValue) throws(JSONShapeError) {
        let summary = try JSONObjectReader(json)
        var host = Host()
        if let section = try summary.object("host") {
            if let cpu = try section.object("cpu") {
                host.cpu = CPU(busyPercent: try cpu.number("busy_percent"), cpus: try cpu.integer("cpus") ?? 0,
                               windowSeconds: try cpu.number("window_seconds"))
            }
            if let memory = try section.object("memory") {
                host.memory = Memory(totalBytes: try memory.required(try memory.number("total_bytes"), "total_bytes"),
                                     availableBytes: try memory.required(try memory.number("available_bytes"), "available_bytes"))
            }
            if let load = try section.object("load") {
                host.load = Load(one: try load.required(try load.number("load1"), "load1"),
                                 five: try load.required(try load.number("load5"), "load5"),
                                 fifteen: try load.required(try load.number("load15"), "load15"))
            }
            if let filesystem = try section.object("fullest_filesystem") {
                host.fullestFilesystem = Filesystem(
                    mountpoint: try filesystem.required(try filesystem.string("mountpoint"), "mountpoint"),
                    device: try filesystem.string("device") ?? "", fstype: try filesystem.string("fstype") ?? "",
                    sizeBytes: try filesystem.required(try filesystem.number("size_bytes"), "size_bytes"),
                    freeBytes: try filesystem.required(try filesystem.number("free_bytes"), "free_bytes"),
                    availableBytes: try filesystem.required(try filesystem.number("avail_bytes"), "avail_bytes"))
            }
        }
        var microVMs: [MicroVM]?
        if let entries = try summary.objects("microvms") {
            microVMs = []
            for vm in entries {
                microVMs!.append(MicroVM(
                    name: try vm.required(try vm.string("name"), "name"), state: try vm.string("state") ?? "unknown",
                    hypervisor: try vm.string("hypervisor"), cpuPercent: try vm.number("cpu_percent"),
                    memoryBytes: try vm.number("memory_bytes"), restartPending: try vm.boolean("restart_pending") ?? false))
            }
        }
        var runs: [PipelineRun]?
        if let entries = try summary.objects("runs") {
            runs = []
            for run in entries { runs!.append(try PipelineRun(reading: run)) }
        }
        var shipping: Shipping?
        if let section = try summary.object("shipping") {
            var elasticsearch: Elasticsearch?
            if let part = try section.object("elasticsearch") {
                var lastError: ShippingError?
                if let error = try part.object("last_error") {
                    lastError = ShippingError(time: try error.required(try error.time("time"), "time"),
                                              message: try error.string("message") ?? "")
                }
                elasticsearch = Elasticsearch(
                    documentsAcknowledged: try part.number("documents_acknowledged") ?? 0,
                    documentsDeadLettered: try part.number("documents_dead_lettered") ?? 0,
                    consecutiveFailures: try part.integer("consecutive_failures") ?? 0,
                    lastSuccess: try part.time("last_success"), lastError: lastError)
            }
            var events: EventsShipping?
            if let part = try section.object("events") {
                events = EventsShipping(backlog: try part.number("backlog"), lagSeconds: try part.number("lag_seconds"))
            }
            let journal = try section.object("journal")
            shipping = Shipping(elasticsearch: elasticsearch, journalLagSeconds: try journal?.number("lag_seconds"),
                                journalWaiting: try journal?.number("waiting"), events: events)
        }
        var journalErrors: JournalErrors?
        if let section = try summary.object("journal_errors") {
            var units: [UnitErrors] = []
            for unit in try section.objects("units") ?? [] {
                units.append(UnitErrors(unit: try unit.string("unit") ?? "", entries: try unit.number("entries") ?? 0))
            }
            journalErrors = JournalErrors(windowSeconds: try section.number("window_seconds") ?? 0, units: units)
        }
        self.init(
            version: try summary.string("version") ?? "", hostname: try summary.string("hostname") ?? "",
            time: try summary.required(try summary.time("time"), "time"), host: host, microVMs: microVMs, runs: runs,
            shipping: shipping, journalErrors: journalErrors, warnings: try summary.strings("warnings") ?? [])
    }
}

extension JSONObjectWriter {
    /// A number member, or `null` for nil.
    fileprivate mutating func orNull(_ name: String, _ value: Double?) {
        if let value { number(name, value) } else { null(name) }
    }

    /// A count (bytes, documents) in plain decimal digits, `8200000000` rather than `8.2e+09`,
    /// while it is a whole number within Int64; as a number otherwise.
    fileprivate mutating func count(_ name: String, _ value: Double) {
        if value == value.rounded(), let whole = Int64(exactly: value) { integer(name, whole) } else { number(name, value) }
    }

    /// A count, or `null` for nil.
    fileprivate mutating func countOrNull(_ name: String, _ value: Double?) {
        if let value { count(name, value) } else { null(name) }
    }

    /// A string member, or `null` for nil.
    fileprivate mutating func orNull(_ name: String, _ value: String?) {
        if let value { string(name, value) } else { null(name) }
    }

    /// A time member, or `null` for nil.
    fileprivate mutating func orNullTime(_ name: String, _ value: Int64?) {
        if let value { time(name, value) } else { null(name) }
    }
}
