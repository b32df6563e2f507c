"""The fixed nesting of a written event: LDC sub-events > equipments > S-Link sources.

Every equipment-carrying event of a file gets the same nesting (a real DAQ reads every
source on every trigger, empty or not), so it is computed once per file as small arrays of
"slots": one slot per source id, ordered by LDC, then equipment, then source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .layout import MUX_SOURCE_MAX, MUX_SOURCE_MIN

__all__ = ["Hierarchy", "build_hierarchy"]


@dataclass(frozen=True)
class Hierarchy:
    slot_source: np.ndarray  # (n_slots,) source id of each slot, in write order
    slot_of_source: np.ndarray  # (MUX_SOURCE_MIN,) slot of a source id, -1 if absent
    eq_id: np.ndarray  # (n_eq,) equipment id: the source id, or the multiplexer's id
    eq_is_mux: np.ndarray  # (n_eq,) bool
    eq_first_slot: np.ndarray  # (n_eq,)
    ldc_id: np.ndarray  # (n_ldc,) only meaningful for super events
    ldc_first_eq: np.ndarray  # (n_ldc,)

    @property
    def n_slots(self) -> int:
        return int(self.slot_source.size)


def _mux_groups(multiplexed_sources) -> list[tuple[int, list[int]]]:
    if isinstance(multiplexed_sources, Mapping):
        items = [(int(k), [int(s) for s in v]) for k, v in multiplexed_sources.items()]
    else:
        items = [(MUX_SOURCE_MIN + i, [int(s) for s in group]) for i, group in enumerate(multiplexed_sources)]
    seen: dict[int, int] = {}
    mux_ids: set[int] = set()
    for mux_id, members in items:
        if not MUX_SOURCE_MIN <= mux_id <= MUX_SOURCE_MAX:
            raise ValueError(
                f"multiplexed_sources: multiplexer id {mux_id} out of range, expected "
                f"{MUX_SOURCE_MIN}..{MUX_SOURCE_MAX}"
            )
        if mux_id in mux_ids:
            raise ValueError(f"multiplexed_sources: multiplexer id {mux_id} given twice")
        mux_ids.add(mux_id)
        if not members:
            raise ValueError(f"multiplexed_sources: multiplexer {mux_id} has no sources")
        for s in members:
            if not 0 <= s < MUX_SOURCE_MIN:
                raise ValueError(
                    f"multiplexed_sources: source {s} of multiplexer {mux_id} out of range, "
                    f"expected 0..{MUX_SOURCE_MIN - 1}"
                )
            if s in seen:
                raise ValueError(
                    f"multiplexed_sources: source {s} is in multiplexer {seen[s]} and {mux_id}"
                )
            seen[s] = mux_id
    return items


def build_hierarchy(
    data_sources: Iterable[int],
    *,
    multiplexed_sources=(),
    ldc_groups: Mapping[int, Iterable[int]] | None = None,
    super_events: bool = False,
) -> Hierarchy:
    """Order sources into equipments (plain or multiplexed) and, for super events, LDCs.

    Equipments are ordered by their lowest source id; without ``ldc_groups`` each equipment
    is its own LDC (ldc id = its position).
    """
    muxes = _mux_groups(multiplexed_sources)
    in_mux = {s for _, members in muxes for s in members}
    sources = sorted(set(int(s) for s in data_sources) | in_mux)
    equipments: list[tuple[int, bool, list[int]]] = [(s, False, [s]) for s in sources if s not in in_mux]
    equipments += [(mux_id, True, sorted(members)) for mux_id, members in muxes]
    equipments.sort(key=lambda e: e[2][0])

    if ldc_groups is not None and not super_events:
        raise ValueError("ldc_groups only applies to super events: pass super_events=True")
    if ldc_groups is None:
        ldc_order = [(i, [eq[0]]) for i, eq in enumerate(equipments)]
    else:
        ldc_order = [(int(k), [int(e) for e in v]) for k, v in ldc_groups.items()]
        eq_ids = {eq[0] for eq in equipments}
        owner: dict[int, int] = {}
        for ldc, members in ldc_order:
            if not 0 <= ldc <= 0xFFFFFFFF:
                raise ValueError(f"ldc_groups: LDC id {ldc} does not fit 32 bits")
            if not members:
                raise ValueError(f"ldc_groups: LDC {ldc} has no equipment")
            for e in members:
                if e not in eq_ids:
                    raise ValueError(
                        f"ldc_groups: LDC {ldc} lists {e}, which is not an equipment (a source "
                        f"outside multiplexers, or a multiplexer id); equipments are {sorted(eq_ids)}"
                    )
                if e in owner:
                    raise ValueError(f"ldc_groups: equipment {e} is in LDC {owner[e]} and {ldc}")
                owner[e] = ldc
        missing = sorted(eq_ids - owner.keys())
        if missing:
            raise ValueError(f"ldc_groups: equipments {missing} are in no LDC")
    rank = {eq[0]: i for i, eq in enumerate(equipments)}
    by_id = {eq[0]: eq for eq in equipments}

    slot_source: list[int] = []
    eq_id: list[int] = []
    eq_is_mux: list[bool] = []
    eq_first_slot: list[int] = []
    ldc_id: list[int] = []
    ldc_first_eq: list[int] = []
    for ldc, members in ldc_order:
        ldc_id.append(ldc)
        ldc_first_eq.append(len(eq_id))
        for e in sorted(members, key=rank.__getitem__):
            _, is_mux, srcs = by_id[e]
            eq_id.append(e)
            eq_is_mux.append(is_mux)
            eq_first_slot.append(len(slot_source))
            slot_source.extend(srcs)
    slot_of_source = np.full(MUX_SOURCE_MIN, -1, dtype=np.int64)
    slot_of_source[np.asarray(slot_source, dtype=np.int64)] = np.arange(len(slot_source))
    return Hierarchy(
        slot_source=np.asarray(slot_source, dtype=np.int64),
        slot_of_source=slot_of_source,
        eq_id=np.asarray(eq_id, dtype=np.int64),
        eq_is_mux=np.asarray(eq_is_mux, dtype=bool),
        eq_first_slot=np.asarray(eq_first_slot, dtype=np.int64),
        ldc_id=np.asarray(ldc_id, dtype=np.int64),
        ldc_first_eq=np.asarray(ldc_first_eq, dtype=np.int64),
    )
