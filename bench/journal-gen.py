#!/usr/bin/env python3
"""Writes N synthetic journal entries in the journal export format to stdout, deterministically.

The shape follows a busy server's journal: ~30 system units with skewed chattiness, the trusted
fields journald adds (_PID, _UID, _GID, _COMM, _EXE, _CMDLINE, _CAP_EFFECTIVE, _SYSTEMD_*,
_MACHINE_ID, _HOSTNAME, _TRANSPORT), native-protocol entries with CODE_FILE/CODE_LINE/CODE_FUNC
and _SOURCE_REALTIME_TIMESTAMP, stdout and syslog entries, kernel messages, a few boots, 11–27
fields per entry (23 on average), MESSAGE 40–400 bytes and mostly unique (journal files store
each distinct FIELD=value once, so a small message pool would make reading unrealistically
cheap), priorities skewed to 6 (info), and ~1 % multi-line messages (a traceback before the
usual text, up to ~600 bytes), which the export format carries as binary fields. Feed it to
systemd-journal-remote to get real journal files:

    bench/journal-gen.py 1000000 | /lib/systemd/systemd-journal-remote --split-mode=none \\
        --output=DIR/bench.journal -

Format: https://systemd.io/JOURNAL_EXPORT_FORMATS/ — `FIELD=value\\n` for text; for values with
a newline or other control bytes `FIELD\\n`, the length as 64-bit little endian, the bytes, `\\n`;
an empty line ends an entry. systemd-journal-remote takes __REALTIME_TIMESTAMP,
__MONOTONIC_TIMESTAMP and _BOOT_ID from the input and assigns its own cursors and seqnums.

    bench/journal-gen.py N [--seed S] [--boots B]
"""

import argparse
import bisect
import itertools
import random
import string
import struct
import sys

START_REALTIME_USEC = 1_795_132_800_000_000  # 2026-11-20T00:00:00Z
MEAN_GAP_USEC = 300_000  # one entry every 0.3 s on average: 1 M entries span ~3.5 days

PRIORITY_WEIGHTS = [1, 2, 5, 40, 80, 120, 650, 102]  # per mille for 0 (emerg) … 7 (debug)

# unit, _COMM, _EXE, _CMDLINE, _UID, _GID, transport, weight, message templates
UNITS = [
    ("nginx.service", "nginx", "/usr/sbin/nginx", "nginx: worker process", 33, 33, "stdout", 120, [
        '{ip} - - "GET /api/v1/items/{n} HTTP/1.1" {status} {size} "-" "Mozilla/5.0 (X11; Linux x86_64)"',
        '{ip} - - "POST /api/v1/orders HTTP/1.1" {status} {size} "https://shop.example.com/cart" "curl/7.88.1"',
        "upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip}",
    ]),
    ("postgresql@15-main.service", "postgres", "/usr/lib/postgresql/15/bin/postgres",
     "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main", 108, 115, "stdout", 90, [
        "LOG:  duration: {ms}.{n3} ms  statement: SELECT * FROM orders WHERE customer_id = {n} ORDER BY created_at DESC LIMIT 50",
        "LOG:  checkpoint complete: wrote {n} buffers ({pct}.{d}%); 0 WAL file(s) added, 0 removed, {d} recycled",
        "ERROR:  duplicate key value violates unique constraint \"orders_pkey\" DETAIL: Key (id)=({n}) already exists.",
        "LOG:  automatic vacuum of table \"shop.public.sessions\": index scans: 1 pages: 0 removed, {n} remain",
    ]),
    ("kubelet.service", "kubelet", "/usr/bin/kubelet",
     "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf", 0, 0, "journal", 110, [
        'I1120 {hms}.{us} {pid} kubelet.go:{line}] "SyncLoop (PLEG): event for pod" pod="default/web-{hex8}" event={{ID:{hex16}}}',
        'E1120 {hms}.{us} {pid} pod_workers.go:{line}] "Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"app\\" with CrashLoopBackOff" pod="default/worker-{hex8}"',
        'I1120 {hms}.{us} {pid} reconciler_common.go:{line}] "operationExecutor.MountVolume started for volume" volume="kube-api-access-{hex8}"',
    ]),
    ("containerd.service", "containerd", "/usr/bin/containerd", "/usr/bin/containerd", 0, 0, "journal", 70, [
        'time="2026-11-20T{hms}.{us}Z" level=info msg="shim disconnected" id={hex16} namespace=k8s.io',
        'time="2026-11-20T{hms}.{us}Z" level=info msg="StartContainer for \\"{hex16}\\" returns successfully"',
        'time="2026-11-20T{hms}.{us}Z" level=warning msg="cleaning up after shim disconnected" id={hex16}',
    ]),
    ("dockerd.service", "dockerd", "/usr/sbin/dockerd", "/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock", 0, 0, "stdout", 40, [
        'time="2026-11-20T{hms}.{us}Z" level=info msg="ignoring event" container={hex16} module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"',
        'time="2026-11-20T{hms}.{us}Z" level=error msg="Handler for POST /v1.43/containers/{hex8}/start returned error: driver failed programming external connectivity"',
    ]),
    ("sshd.service", "sshd", "/usr/sbin/sshd", "sshd: root [priv]", 0, 0, "syslog", 35, [
        "Accepted publickey for deploy from {ip} port {port} ssh2: ED25519 SHA256:{b64}",
        "Failed password for invalid user {user} from {ip} port {port} ssh2",
        "Connection closed by authenticating user root {ip} port {port} [preauth]",
        "pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)",
    ]),
    ("cron.service", "cron", "/usr/sbin/cron", "/usr/sbin/cron -f", 0, 0, "syslog", 20, [
        "(root) CMD (   test -x /usr/sbin/anacron || {{ cd / && run-parts --report /etc/cron.hourly; }})",
        "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
        "pam_unix(cron:session): session closed for user root",
    ]),
    ("systemd-journald.service", "systemd-journal", "/lib/systemd/systemd-journald", "/lib/systemd/systemd-journald", 0, 0, "driver", 5, [
        "Suppressed {n} messages from {unit}",
        "System Journal (/var/log/journal/{hex16}) is {n}.{d}M, max 4.0G, 3.9G free.",
    ]),
    ("systemd-logind.service", "systemd-logind", "/lib/systemd/systemd-logind", "/lib/systemd/systemd-logind", 0, 0, "journal", 10, [
        "New session {n} of user deploy.",
        "Session {n} logged out. Waiting for processes to exit.",
        "Removed session {n}.",
    ]),
    ("systemd-resolved.service", "systemd-resolve", "/lib/systemd/systemd-resolved", "/lib/systemd/systemd-resolved", 991, 991, "journal", 12, [
        "Using degraded feature set UDP instead of UDP+EDNS0 for DNS server {ip}.",
        "Clock change detected. Flushing caches.",
    ]),
    ("systemd-networkd.service", "systemd-network", "/lib/systemd/systemd-networkd", "/lib/systemd/systemd-networkd", 998, 998, "journal", 8, [
        "eth0: DHCPv4 address {ip}/24, gateway 10.0.0.1 acquired from 10.0.0.1",
        "veth{hex8}: Link UP",
        "veth{hex8}: Gained carrier",
    ]),
    ("systemd-timesyncd.service", "systemd-timesyn", "/lib/systemd/systemd-timesyncd", "/lib/systemd/systemd-timesyncd", 997, 997, "journal", 4, [
        "Initial synchronization to time server {ip}:123 (2.debian.pool.ntp.org).",
        "Timed out waiting for reply from {ip}:123 (0.debian.pool.ntp.org).",
    ]),
    ("init.scope", "systemd", "/lib/systemd/systemd", "/sbin/init", 0, 0, "journal", 45, [
        "Started session-{n}.scope - Session {n} of User deploy.",
        "cri-containerd-{hex16}.scope: Deactivated successfully.",
        "run-containerd-runc-k8s.io-{hex16}-runc.{hex8}.mount: Deactivated successfully.",
        "Starting logrotate.service - Rotate log files...",
        "logrotate.service: Consumed {ms}ms CPU time.",
    ]),
    ("redis-server.service", "redis-server", "/usr/bin/redis-server", "/usr/bin/redis-server 127.0.0.1:6379", 110, 117, "stdout", 25, [
        "{pid}:M 20 Nov 2026 {hms}.{n3} * {n} changes in 60 seconds. Saving...",
        "{pid}:C 20 Nov 2026 {hms}.{n3} * DB saved on disk",
        "{pid}:M 20 Nov 2026 {hms}.{n3} * Background saving terminated with success",
    ]),
    ("prometheus.service", "prometheus", "/usr/bin/prometheus", "/usr/bin/prometheus --storage.tsdb.retention.time=15d", 105, 112, "stdout", 15, [
        'ts=2026-11-20T{hms}.{n3}Z caller=compact.go:{line} level=info component=tsdb msg="write block" mint={n} maxt={n} ulid=01H{hex16} duration={ms}ms',
        'ts=2026-11-20T{hms}.{n3}Z caller=head.go:{line} level=info component=tsdb msg="Head GC completed" caller=truncateMemory duration={ms}.{n3}ms',
    ]),
    ("grafana-server.service", "grafana", "/usr/share/grafana/bin/grafana", "/usr/share/grafana/bin/grafana server --config=/etc/grafana/grafana.ini", 106, 113, "stdout", 15, [
        'logger=context userId=1 orgId=1 uname=admin t=2026-11-20T{hms}.{us} level=info msg="Request Completed" method=GET path=/api/dashboards/uid/{hex8} status={status} remote_addr={ip} time_ms={ms} size={size}',
    ]),
    ("haproxy.service", "haproxy", "/usr/sbin/haproxy", "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid", 0, 0, "syslog", 40, [
        "{ip}:{port} [20/Nov/2026:{hms}.{n3}] https-in~ backend_app/app{d} 0/0/{d}/{ms}/{ms} {status} {size} - - ---- {n}/{n}/{d}/{d}/0 0/0 \"GET /healthz HTTP/1.1\"",
    ]),
    ("node-exporter.service", "prometheus-node", "/usr/bin/prometheus-node-exporter", "/usr/bin/prometheus-node-exporter", 65534, 65534, "stdout", 3, [
        'ts=2026-11-20T{hms}.{n3}Z caller=collector.go:{line} level=error msg="collector failed" name=hwmon duration_seconds=0.00{n3} err="open /sys/class/hwmon/hwmon{d}/temp1_input: no such device"',
    ]),
    ("rsyslog.service", "rsyslogd", "/usr/sbin/rsyslogd", "/usr/sbin/rsyslogd -n -iNONE", 0, 0, "journal", 3, [
        'rsyslogd\'s groupid changed to 110',
        '[origin software="rsyslogd" swVersion="8.2302.0" x-pid="{pid}" x-info="https://www.rsyslog.com"] rsyslogd was HUPed',
    ]),
    ("unattended-upgrades.service", "unattended-upgr", "/usr/bin/python3.11", "/usr/bin/python3 /usr/share/unattended-upgrades/unattended-upgrade-shutdown --wait-for-signal", 0, 0, "stdout", 2, [
        "Allowed origins are: origin=Debian,codename=bookworm,label=Debian-Security",
        "Packages that will be upgraded: libssl3 openssl",
    ]),
    ("apt-daily.service", "apt.systemd.dai", "/usr/bin/dash", "/bin/sh /usr/lib/apt/apt.systemd.daily update", 0, 0, "stdout", 2, [
        "Hit:{d} http://deb.debian.org/debian bookworm InRelease",
        "Get:{d} http://security.debian.org/debian-security bookworm-security/main amd64 Packages [{n} kB]",
    ]),
    ("dbus.service", "dbus-daemon", "/usr/bin/dbus-daemon", "/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only", 100, 106, "journal", 4, [
        "[system] Activating via systemd: service name='org.freedesktop.hostname1' unit='dbus-org.freedesktop.hostname1.service' requested by ':1.{n}' (uid=0 pid={pid} comm=\"hostnamectl\")",
        "[system] Successfully activated service 'org.freedesktop.hostname1'",
    ]),
    ("polkit.service", "polkitd", "/usr/lib/polkit-1/polkitd", "/usr/lib/polkit-1/polkitd --no-debug", 996, 996, "journal", 2, [
        "Registered Authentication Agent for unix-process:{pid}:{n} (system bus name :1.{n})",
    ]),
    ("fail2ban.service", "fail2ban-server", "/usr/bin/python3.11", "/usr/bin/python3 /usr/bin/fail2ban-server -xf start", 0, 0, "stdout", 10, [
        "fail2ban.actions [{pid}]: NOTICE [sshd] Ban {ip}",
        "fail2ban.filter [{pid}]: INFO [sshd] Found {ip} - 2026-11-20 {hms}",
    ]),
    ("etcd.service", "etcd", "/usr/bin/etcd", "/usr/bin/etcd --data-dir=/var/lib/etcd --name=node1", 0, 0, "stdout", 30, [
        '{{"level":"info","ts":"2026-11-20T{hms}.{us}Z","caller":"mvcc/index.go:{line}","msg":"compact tree index","revision":{n}}}',
        '{{"level":"warn","ts":"2026-11-20T{hms}.{us}Z","caller":"etcdserver/util.go:{line}","msg":"apply request took too long","took":"{ms}.{n3}ms","expected-duration":"100ms"}}',
    ]),
    ("ceph-osd@3.service", "ceph-osd", "/usr/bin/ceph-osd", "/usr/bin/ceph-osd -f --cluster ceph --id 3 --setuser ceph --setgroup ceph", 64045, 64045, "stdout", 25, [
        "2026-11-20T{hms}.{us}+0000 7f{hex8} 0 log_channel(cluster) log [DBG] : {d}.{hex8} scrub starts",
        "2026-11-20T{hms}.{us}+0000 7f{hex8} -1 osd.3 {n} heartbeat_check: no reply from {ip}:6804 osd.7 since back {hms}",
    ]),
    ("mysql.service", "mariadbd", "/usr/sbin/mariadbd", "/usr/sbin/mariadbd", 111, 118, "journal", 15, [
        "[Warning] Aborted connection {n} to db: 'shop' user: 'app' host: '{ip}' (Got timeout reading communication packets)",
        "[Note] InnoDB: Buffer pool(s) load completed at 261120 {hms}",
    ]),
    ("postfix@-.service", "smtpd", "/usr/lib/postfix/sbin/smtpd", "smtpd -n smtp -t inet -u -c", 107, 114, "syslog", 12, [
        "connect from unknown[{ip}]",
        "NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 <{user}@example.org>: Relay access denied; from=<{user}@spam.example> to=<{user}@example.org> proto=ESMTP helo=<{hex8}>",
        "disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=0/1 rset=1 quit=1 commands=4/5",
    ]),
    ("user@1000.service", "systemd", "/lib/systemd/systemd", "/lib/systemd/systemd --user", 1000, 1000, "journal", 6, [
        "Started app-{hex8}.scope.",
        "Reached target default.target - Main User Target.",
    ]),
    ("backup.service", "restic", "/usr/bin/restic", "/usr/bin/restic backup --one-file-system /srv", 0, 0, "stdout", 4, [
        "processed {n} files, {n} MiB in {d}:{d}{d}",
        "snapshot {hex8} saved",
    ]),
]

KERNEL_MESSAGES = [
    "[UFW BLOCK] IN=eth0 OUT= MAC={mac} SRC={ip} DST=10.0.0.5 LEN={size} TOS=0x00 PREC=0x00 TTL=54 ID={n} PROTO=TCP SPT={port} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0",
    "cni0: port {d}(veth{hex8}) entered forwarding state",
    "EXT4-fs (nvme0n1p{d}): mounted filesystem {hex8}-{hex8} r/w with ordered data mode. Quota mode: none.",
    "nvme nvme0: I/O {n} QID {d} timeout, completion polled",
    "TCP: request_sock_TCP: Possible SYN flooding on port {port}. Sending cookies.",
]

CODE_FUNCS = ["main", "handle_request", "on_event", "sync_loop", "flush", "apply", "dispatch"]
USERS = ["admin", "test", "oracle", "ubuntu", "pi", "guest", "git", "postgres"]
WORDS = ("the a request connection worker retry backoff upstream client server timeout latency "
         "queue batch flush commit cache miss hit shard replica leader follower snapshot "
         "compaction segment index token session lease heartbeat probe readiness liveness "
         "endpoint route handler payload buffer stream chunk offset cursor").split()
STACK = ("Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/app/worker.py\", line {line}, in run\n"
         "    result = self.handle(job)\nTimeoutError: job {hex8} exceeded {ms} ms\n")


def main():
    parser = argparse.ArgumentParser(description="Write N synthetic journal entries in export format to stdout.")
    parser.add_argument("entries", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--boots", type=int, default=4)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    rand, getrandbits = rng.random, rng.getrandbits

    # random.randrange and random.choice cost ~2 µs a call, most of the run; these do the same
    # job (with float rounding that does not matter here) in a tenth of the time.
    def randrange(start, stop=None):
        if stop is None:
            start, stop = 0, start
        return start + int(rand() * (stop - start))

    def choice(sequence):
        return sequence[int(rand() * len(sequence))]

    machine_id = "%032x" % getrandbits(128)
    hostname = "node1.example.com"
    # Fillers are cut from one long pseudo-random text so that padded messages stay distinct.
    text = " ".join(choice(WORDS) for _ in range(100_000))
    units = [u[:7] + (u[8],) for u in UNITS]
    unit_weights = list(itertools.accumulate(u[7] for u in UNITS))
    priority_weights = list(itertools.accumulate(PRIORITY_WEIGHTS))
    caps = {0: "1ffffffffff", 33: "0", 108: "0"}

    out = sys.stdout.buffer
    pack = struct.Struct("<Q").pack
    entries_per_boot = -(-args.entries // args.boots) if args.entries else 1
    realtime = START_REALTIME_USEC
    written = 0
    chunk = []

    placeholders = {
        "ip": lambda: "%d.%d.%d.%d" % (randrange(1, 224), randrange(256), randrange(256), randrange(1, 255)),
        "n": lambda: randrange(1, 1_000_000), "n3": lambda: "%03d" % randrange(1000), "d": lambda: randrange(10),
        "ms": lambda: randrange(1, 5000), "pct": lambda: randrange(100),
        "status": lambda: choice((200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 500, 502)),
        "size": lambda: randrange(40, 60_000), "port": lambda: randrange(1024, 65536),
        "hex8": lambda: "%08x" % getrandbits(32), "hex16": lambda: "%016x" % getrandbits(64),
        "us": lambda: "%06d" % randrange(1_000_000), "line": lambda: randrange(50, 2000),
        "hms": lambda: "%02d:%02d:%02d" % (randrange(24), randrange(60), randrange(60)),
        "user": lambda: choice(USERS), "unit": lambda: choice(UNITS)[0],
        "mac": lambda: "%012x" % getrandbits(48), "b64": lambda: "%x" % getrandbits(172),
    }
    names_in = {}

    def fill(template, pid):
        # Only the placeholders the template uses are drawn, once per message.
        names = names_in.get(template)
        if names is None:
            # In order of appearance (a set's order varies with PYTHONHASHSEED, and so would the draws).
            parsed = (name for _, name, _, _ in string.Formatter().parse(template) if name and name != "pid")
            names = names_in[template] = tuple(dict.fromkeys(parsed))
        return template.format(pid=pid, **{name: placeholders[name]() for name in names})

    def message(template, pid):
        # Lengths 40–400 bytes, most between 60 and 200, like a server's journal.
        msg = fill(template, pid)
        target = min(400, max(40, int(rng.lognormvariate(4.7, 0.5))))
        if len(msg) < target:
            start = text.index(" ", randrange(len(text) - 420)) + 1
            msg = msg + " " + text[start:start + target - len(msg) - 1]
        elif len(msg) > 400:
            msg = msg[:400]
        return msg

    for boot in range(args.boots):
        boot_id = "%032x" % getrandbits(128)
        monotonic = randrange(1_500_000, 4_000_000)
        # Per boot: each unit's pid, invocation id and stream id, as after a fresh start.
        state = {u[0]: [randrange(300, 4_000_000), "%032x" % getrandbits(128), "%032x" % getrandbits(128)] for u in units}
        for _ in range(min(entries_per_boot, args.entries - written)):
            gap = int(rng.expovariate(1.0 / MEAN_GAP_USEC)) + 1
            realtime += gap
            monotonic += gap
            priority = bisect.bisect(priority_weights, rand() * priority_weights[-1])
            fields = ["__REALTIME_TIMESTAMP=%d" % realtime, "__MONOTONIC_TIMESTAMP=%d" % monotonic, "_BOOT_ID=" + boot_id]
            binary = None
            if rand() < 0.04:
                fields += [
                    "_TRANSPORT=kernel", "PRIORITY=%d" % max(priority, 3), "SYSLOG_FACILITY=0",
                    "SYSLOG_IDENTIFIER=kernel", "_SOURCE_MONOTONIC_TIMESTAMP=%d" % (monotonic - randrange(1, 500)),
                    "_MACHINE_ID=" + machine_id, "_HOSTNAME=" + hostname,
                    "MESSAGE=" + message(choice(KERNEL_MESSAGES), 0),
                ]
                if rand() < 0.5:
                    fields += ["_KERNEL_SUBSYSTEM=net", "_KERNEL_DEVICE=n%d" % randrange(2, 40), "_UDEV_SYSNAME=eth0"]
            else:
                unit, comm, exe, cmdline, uid, gid, transport, templates = units[bisect.bisect(unit_weights, rand() * unit_weights[-1])]
                pids = state[unit]
                if rand() < 0.0005:  # a restart: new pid and invocation
                    pids[0], pids[1] = randrange(300, 4_000_000), "%032x" % getrandbits(128)
                pid = pids[0]
                slice_ = "user-1000.slice" if unit.startswith("user@") else "system.slice"
                fields += [
                    "PRIORITY=%d" % priority, "SYSLOG_IDENTIFIER=" + comm, "_PID=%d" % pid, "_UID=%d" % uid,
                    "_GID=%d" % gid, "_COMM=" + comm, "_EXE=" + exe, "_CMDLINE=" + cmdline,
                    "_CAP_EFFECTIVE=" + caps.get(uid, "0"), "_SELINUX_CONTEXT=unconfined",
                    "_SYSTEMD_CGROUP=/%s/%s" % (slice_, unit), "_SYSTEMD_UNIT=" + unit, "_SYSTEMD_SLICE=" + slice_,
                    "_SYSTEMD_INVOCATION_ID=" + pids[1], "_MACHINE_ID=" + machine_id, "_HOSTNAME=" + hostname,
                    "_TRANSPORT=" + transport,
                ]
                if transport == "journal":
                    fields += [
                        "_SOURCE_REALTIME_TIMESTAMP=%d" % (realtime - randrange(5, 800)),
                        "CODE_FILE=src/%s/%s.c" % (comm, choice(CODE_FUNCS)), "CODE_LINE=%d" % randrange(20, 3000),
                        "CODE_FUNC=" + choice(CODE_FUNCS), "SYSLOG_FACILITY=3",
                    ]
                    if rand() < 0.1:
                        fields.append("MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1")
                elif transport == "syslog":
                    fields += [
                        "_SOURCE_REALTIME_TIMESTAMP=%d" % (realtime - randrange(5, 800)), "SYSLOG_FACILITY=%d" % choice((4, 10, 2, 16)),
                        "SYSLOG_PID=%d" % pid, "SYSLOG_TIMESTAMP=Nov 20 %02d:%02d:%02d " % (randrange(24), randrange(60), randrange(60)),
                    ]
                elif transport == "stdout":
                    fields.append("_STREAM_ID=" + pids[2])
                if rand() < 0.01:
                    binary = fill(STACK, pid) + message(choice(templates), pid)
                else:
                    fields.append("MESSAGE=" + message(choice(templates), pid))
            entry = ("\n".join(fields) + "\n").encode()
            if binary is not None:
                data = binary.encode()
                entry += b"MESSAGE\n" + pack(len(data)) + data + b"\n"
            chunk.append(entry)
            written += 1
            if len(chunk) == 2000:
                out.write(b"\n".join(chunk) + b"\n")
                chunk = []
        realtime += randrange(60, 600) * 1_000_000  # downtime between boots
    if chunk:
        out.write(b"\n".join(chunk) + b"\n")
    out.flush()


if __name__ == "__main__":
    main()
