#!/usr/bin/env python3
"""The Python peer of the journal benchmark: every entry of a journal directory into OpenSearch.

Reads with python-systemd's `journal.Reader` (Debian python3-systemd) and sends with
opensearch-py's official `helpers.bulk`, the way a small in-house shipper would: one document per
entry, `create` with the entry's cursor as `_id`, into a daily index `lookout-logs-YYYY.MM.DD`
chosen from the entry's own time, serialized by the client's JSON serializer. Documents have the
shape Lookout sends (ECS names where one exists, the rest of the fields under `journald`), so both
sides do the same work per entry.

Needs /usr/bin/python3 with python3-systemd plus opensearch-py; bench/journal.sh runs it from
bench/.venv (made with --system-site-packages by `scripts/bootstrap --bench`).

    bench/.venv/bin/python bench/journal_bulk.py --url http://127.0.0.1:PORT DIR [--chunk-size 2000]
"""

import argparse
import base64
import datetime
import sys
import time

from opensearchpy import OpenSearch, helpers
from systemd import journal

UTC = datetime.timezone.utc


def utc_from_microseconds(value):
    return datetime.datetime.fromtimestamp(int(value) / 1_000_000, UTC)


# python-systemd's default converters give naive local-time datetimes; the index date and
# @timestamp must be UTC whatever the machine's time zone.
CONVERTERS = {"__REALTIME_TIMESTAMP": utc_from_microseconds, "_SOURCE_REALTIME_TIMESTAMP": utc_from_microseconds}

# journal field → (ECS object, key); everything else goes under "journald".
ECS = {
    "MESSAGE": (None, "message"),
    "_HOSTNAME": ("host", "name"),
    "_PID": ("process", "pid"),
    "_COMM": ("process", "name"),
    "_EXE": ("process", "executable"),
    "_CMDLINE": ("process", "command_line"),
    "_SYSTEMD_UNIT": ("systemd", "unit"),
    "SYSLOG_IDENTIFIER": ("syslog", "identifier"),
}


def plain(value):
    """A JSON-serializable form of what the Reader's converters return for fields ECS leaves alone."""
    if isinstance(value, bytes):  # not valid UTF-8: the Reader leaves the raw bytes
        return base64.b64encode(value).decode()
    if isinstance(value, journal.Monotonic):  # (timedelta, boot UUID)
        return value.timestamp // datetime.timedelta(microseconds=1)
    if isinstance(value, datetime.timedelta):  # _SOURCE_MONOTONIC_TIMESTAMP
        return value // datetime.timedelta(microseconds=1)
    if isinstance(value, list):  # a field the entry has more than once
        return [plain(item) for item in value]
    return value  # str, int, UUID and datetime serialize as they are


def document(entry):
    fields = dict(entry)
    cursor = fields.pop("__CURSOR")
    realtime = fields["__REALTIME_TIMESTAMP"]
    timestamp = fields.get("_SOURCE_REALTIME_TIMESTAMP", realtime)
    source = {"@timestamp": timestamp}
    if "PRIORITY" in fields:
        source["log"] = {"syslog": {"priority": fields.pop("PRIORITY")}}
    for name, (group, key) in ECS.items():
        if name in fields:
            value = plain(fields.pop(name))
            if group is None:
                source[key] = value
            else:
                source.setdefault(group, {})[key] = value
    source["journald"] = {name: plain(value) for name, value in fields.items()}
    return {
        "_op_type": "create",
        "_index": "lookout-logs-" + timestamp.strftime("%Y.%m.%d"),
        "_id": cursor,
        "_source": source,
    }


def main():
    parser = argparse.ArgumentParser(description="Send every entry of a journal directory to OpenSearch with helpers.bulk.")
    parser.add_argument("directory")
    parser.add_argument("--url", required=True)
    parser.add_argument("--chunk-size", type=int, default=2000)
    args = parser.parse_args()

    client = OpenSearch(hosts=[args.url], timeout=120)
    reader = journal.Reader(path=args.directory, converters=CONVERTERS)
    reader.seek_head()
    started = time.monotonic()
    created, failed = helpers.bulk(
        client, (document(entry) for entry in reader), chunk_size=args.chunk_size,
        stats_only=True, raise_on_error=False,
    )
    elapsed = time.monotonic() - started
    total = created + failed
    print(f"journal_bulk: {total} entries in {elapsed:.1f} s, {total / elapsed:.0f} entries/s "
          f"({created} created, {failed} failed; chunk size {args.chunk_size})")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
