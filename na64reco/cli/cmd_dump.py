"""``na64reco dump FILE --event K``: one decoded event, human readable."""

from __future__ import annotations

import argparse
import datetime as dt

from ..raw.summary import EventRecord, event_type_name, read_event
from .textfmt import text_table


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dump", help="print one decoded event: header, digits, hits, errors")
    p.add_argument("file", help="DATE raw file")
    p.add_argument("--event", "-e", type=int, required=True, metavar="K",
                   help="event number in the file, counting from 0 (the 'index' column)")
    p.set_defaults(func=run)


def _name(names: tuple[str, ...], plane: int) -> str:
    return names[plane] if 0 <= plane < len(names) else "unmapped"


def format_event(r: EventRecord) -> str:
    h = r.header
    when = dt.datetime.fromtimestamp(h["time"], tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    out = [
        f"event {r.index}: offset {h['offset']}, {h['size']} bytes",
        f"  run {h['run']}  spill {h['spill']}  event_in_run {h['event_in_run']}  "
        f"event_in_spill {h['event_in_spill']}",
        f"  type {h['type']} ({event_type_name(h['type'])})  trigger_mask 0x{h['trigger_mask']:x}  "
        f"time {h['time']} ({when})  errors {h['nerrors']}",
    ]
    if r.setup_problem:
        out.append(f"  warning: {r.setup_problem}")
    s = r.sadc
    out += ["", f"SADC digits: {s.nrows}"]
    if s.nrows:
        rows = []
        for i in range(s.nrows):
            n = int(s.nsamples[i])
            rows.append([_name(r.planes, int(s.plane[i])), s.x[i], s.y[i], s.source_id[i], s.port[i], s.chip[i],
                         s.channel[i], n, s["sum"][i], " ".join(map(str, s.samples[i, :n].tolist()))])
        out.append(text_table(["plane", "x", "y", "source", "port", "chip", "chan", "nsamples", "sum", "samples"], rows))
    t = r.tdc
    out += ["", f"TDC hits: {t.nrows}"]
    if t.nrows:
        rows = [[_name(r.straw_planes, int(t.plane[i])), t.layer[i], t.tube[i], t.source_id[i], t.port[i], t.chip[i],
                 t.channel[i], t.raw_time[i], t.trigger_time[i], t.time_bins[i], f"{t.time_ns[i]:.1f}"]
                for i in range(t.nrows)]
        out.append(text_table(["plane", "layer", "tube", "source", "port", "chip", "chan", "raw_time",
                               "trigger_time", "time_bins", "time_ns"], rows))
    e = r.errors
    out += ["", f"errors: {e.nrows}"]
    if e.nrows:
        rows = [[e.name[i], e.code[i], e.source_id[i], e.offset[i], e.value[i]] for i in range(e.nrows)]
        out.append(text_table(["name", "code", "source", "offset", "value"], rows))
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    print(format_event(read_event(args.file, args.event)))
    return 0
