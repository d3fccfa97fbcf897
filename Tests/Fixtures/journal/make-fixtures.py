#!/usr/bin/env python3
"""Writes the journal fixtures in systemd's journal export format (systemd.io/JOURNAL_EXPORT_FORMATS).

The tests turn them into real journal files with systemd-journal-remote. Deterministic; run it
again after changing it and commit the .export files it writes:

    Tests/Fixtures/journal/make-fixtures.py
"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
BOOTS = ["0f1e2d3c4b5a69788796a5b4c3d2e1f0", "a1b2c3d4e5f60718293a4b5c6d7e8f90", "5e4d3c2b1a0998877665544332211000"]
MACHINE = "c0ffee00c0ffee00c0ffee00c0ffee00"
UNITS = ["sshd.service", "nginx.service", "microvm@web.service", "microvm@db.service", "systemd-networkd.service",
         "cron.service", "lookout.service"]
COMMS = {"sshd.service": "sshd", "nginx.service": "nginx", "microvm@web.service": "qemu-system-x86",
         "microvm@db.service": "cloud-hypervisor", "systemd-networkd.service": "systemd-network",
         "cron.service": "cron", "lookout.service": "lookout"}


def field(name, value):
    """One field: text form when it has no newline, else the binary (length-prefixed) form."""
    data = value if isinstance(value, bytes) else value.encode()
    if b"\n" in data:
        return name.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
    return name.encode() + b"=" + data + b"\n"


def entry(fields):
    return b"".join(field(name, value) for name, value in fields) + b"\n"


def ordinary(rng, boot, realtime, monotonic, index):
    unit = rng.choice(UNITS)
    fields = [
        ("__REALTIME_TIMESTAMP", str(realtime)),
        ("__MONOTONIC_TIMESTAMP", str(monotonic)),
        ("_BOOT_ID", boot),
        ("_MACHINE_ID", MACHINE),
        ("_HOSTNAME", "host-a"),
        ("PRIORITY", str(rng.choice([6, 6, 6, 5, 4, 3, 7, 2]))),
        ("SYSLOG_FACILITY", "3"),
        ("SYSLOG_IDENTIFIER", COMMS[unit]),
        ("_PID", str(1000 + rng.randrange(5000))),
        ("_UID", "0"),
        ("_GID", "0"),
        ("_COMM", COMMS[unit]),
        ("_EXE", "/usr/bin/" + COMMS[unit]),
        ("_CMDLINE", "/usr/bin/%s --flag=%d" % (COMMS[unit], index)),
        ("_SYSTEMD_UNIT", unit),
        ("_SYSTEMD_SLICE", "system.slice"),
        ("_SYSTEMD_CGROUP", "/system.slice/" + unit),
        ("_TRANSPORT", rng.choice(["journal", "stdout", "syslog"])),
        ("MESSAGE", "entry %d from %s: %s" % (index, unit, "x" * rng.randrange(80))),
    ]
    if rng.random() < 0.4:
        fields.append(("_SOURCE_REALTIME_TIMESTAMP", str(realtime - rng.randrange(1000))))
    if rng.random() < 0.2:
        fields += [("CODE_FILE", "src/main.c"), ("CODE_LINE", str(rng.randrange(1, 900))), ("CODE_FUNC", "main")]
    return fields


def odd(boot, realtime, monotonic):
    """Entries that exercise decoding: every one must come out of Lookout losslessly."""
    base = [("__REALTIME_TIMESTAMP", str(realtime)), ("__MONOTONIC_TIMESTAMP", str(monotonic)), ("_BOOT_ID", boot),
            ("_HOSTNAME", "host-a"), ("_TRANSPORT", "journal")]
    step = iter(range(1, 100))

    def at(fields):
        offset = next(step)
        head = [("__REALTIME_TIMESTAMP", str(realtime + offset)), ("__MONOTONIC_TIMESTAMP", str(monotonic + offset))]
        return head + base[2:] + fields

    return [
        at([("MESSAGE", "repeated fields"), ("TAG", "first"), ("TAG", "second"), ("TAG", "third"), ("PRIORITY", "6")]),
        at([("MESSAGE", b"not utf-8: \xff\xfe\x80 end"), ("PRIORITY", "3"), ("_SYSTEMD_UNIT", "nginx.service")]),
        at([("MESSAGE", "multi\nline\nmessage"), ("PRIORITY", "5")]),
        at([("MESSAGE", "\x1b[31mred\x1b[0m and a tab\there"), ("PRIORITY", "4")]),
        at([("MESSAGE", "unicode: caf\u00e9 \u2603 \U0001F680"), ("PRIORITY", "6")]),
        at([("MESSAGE", "large field follows"), ("LARGE", "L" * (1 << 20)), ("PRIORITY", "7")]),
        at([("MESSAGE", "binary blob"), ("BLOB", bytes(range(256))), ("PRIORITY", "6")]),
        at([("MESSAGE", "mixed repeated"), ("DATA", "text"), ("DATA", b"\xc3\x28"), ("PRIORITY", "6")]),
        at([("MESSAGE", "odd numbers"), ("PRIORITY", "9"), ("_PID", "0123"), ("SYSLOG_PID", "12,user"),
            ("CODE_LINE", "-4")]),
        at([("MESSAGE", "two messages"), ("MESSAGE", "second message"), ("PRIORITY", "6")]),
        at([("MESSAGE", "quotes \" and backslash \\ and nul-free control \x01\x7f"), ("PRIORITY", "6")]),
        at([("MESSAGE", ""), ("EMPTY", ""), ("PRIORITY", "6")]),
        at([("MESSAGE", "no priority at all")]),
        at([("MESSAGE", "source time in the future"), ("_SOURCE_REALTIME_TIMESTAMP", str(realtime + 10**9)),
            ("PRIORITY", "6")]),
        at([("MESSAGE", "bad source time"), ("_SOURCE_REALTIME_TIMESTAMP", "yesterday"), ("PRIORITY", "6")]),
        # What `journalctl -u nginx.service` finds beyond the unit's own lines.
        at([("MESSAGE", "Started nginx.service."), ("PRIORITY", "6"), ("_PID", "1"), ("UNIT", "nginx.service"),
            ("_SYSTEMD_UNIT", "init.scope")]),
        at([("MESSAGE", "nginx.service: object message"), ("PRIORITY", "5"), ("_UID", "0"),
            ("OBJECT_SYSTEMD_UNIT", "nginx.service"), ("_SYSTEMD_UNIT", "systemd-logind.service")]),
    ]


def main():
    rng = random.Random(20261126)
    realtime = 1_764_150_000_000_000  # 2025-11-26T09:40:00Z
    entries = []
    for boot_index, boot in enumerate(BOOTS):
        monotonic = 2_000_000
        for index in range(120):
            realtime += rng.randrange(1, 3_000_000)
            monotonic += rng.randrange(1, 3_000_000)
            entries.append(ordinary(rng, boot, realtime, monotonic, boot_index * 1000 + index))
        if boot_index == 1:
            entries += odd(boot, realtime, monotonic)
            realtime += 1000
            monotonic += 1000
        realtime += 60_000_000
    with open(os.path.join(HERE, "host-a.export"), "wb") as out:
        for fields in entries:
            out.write(entry(fields))


if __name__ == "__main__":
    main()
