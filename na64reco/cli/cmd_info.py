"""``na64reco info FILE``: what a raw file holds, by event type, source, plane and error."""

from __future__ import annotations

import argparse

from ..raw.summary import RawSummary, summarize
from .textfmt import text_table


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("info", help="counts per event type, source, detector plane and error")
    p.add_argument("file", help="DATE raw file")
    p.set_defaults(func=run)


def format_summary(s: RawSummary) -> str:
    out = [f"{s.path}: {s.size} bytes, {s.n_events} events, runs "
           f"{', '.join(map(str, s.runs.tolist())) or '-'}, {s.n_spills} spills", "", "events by type:"]
    out.append(text_table(["type", "name", "events"],
                          list(zip(s.event_types.type.tolist(), s.event_types.name.tolist(), s.event_types["count"].tolist()))))
    out += ["", "sources:"]
    src = s.sources
    out.append(text_table(["source_id", "sadc_digits", "tdc_hits", "events_with_data", "errors"],
                          list(zip(*(src[c].tolist() for c in src)))) if src.nrows else "  none")
    out += ["", "SADC digits by plane:"]
    out.append(text_table(["plane", "digits"], list(zip(s.sadc_planes.name.tolist(), s.sadc_planes.digits.tolist())))
               if s.sadc_planes.nrows else "  no channel map")
    out += ["", "straw hits by plane:"]
    out.append(text_table(["plane", "hits"], list(zip(s.straw_planes.name.tolist(), s.straw_planes.hits.tolist())))
               if s.straw_planes.nrows else "  no channel map")
    u = s.unmapped
    out += ["", f"unmapped channels: {int(u['count'].sum()) if u.nrows else 0} digits/hits on {u.nrows} addresses"]
    if u.nrows:
        out.append(text_table(["kind", "source_id", "port", "chip", "channel", "count"],
                              list(zip(*(u[c].tolist() for c in u)))))
    e = s.errors
    out += ["", f"errors: {int(e['count'].sum()) if e.nrows else 0}"]
    if e.nrows:
        out.append(text_table(["code", "name", "count"], list(zip(e.code.tolist(), e.name.tolist(), e["count"].tolist()))))
    for problem in s.setup_problems:
        out.append(f"warning: {problem}")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    print(format_summary(summarize(args.file)))
    return 0
