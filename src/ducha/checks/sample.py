"""Checks of the sample the plan prescribes: 2 townships with poverty tasks, at least one village each, 5 + 5 + 5
households of each village, at least 2 + 2 interviews, one village check per sampled village, and no records from
villages outside the sample."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ducha.checks.registry import check
from ducha.checks.tables import VillageKey, at, village_keys
from ducha.model.findings import Code, Finding
from ducha.model.schema import HOUSEHOLD_TYPES, INTERVIEW_KINDS, NO
from ducha.reading.workbook import ParsedTable, ParsedWorkbook

TOWNSHIPS_PER_SAMPLE = 2
HOUSEHOLDS_PER_TYPE = 5
INTERVIEWS_PER_KIND = 2


def sampled_villages(sampling: ParsedTable) -> dict[VillageKey, int]:
    """Each sampled village -> the index of its first record in 「抽样」."""
    sampled: dict[VillageKey, int] = {}
    for i, key in enumerate(village_keys(sampling)):
        if key is not None:
            sampled.setdefault(key, i)
    return sampled


def _name(key: VillageKey) -> str:
    return f"{key[0]}{key[1]}"


@check
def sample_villages_once(parsed: ParsedWorkbook) -> Iterator[Finding]:
    sampling = parsed.tables["sampling"]
    first = sampled_villages(sampling)
    for i, key in enumerate(village_keys(sampling)):
        if key is not None and first[key] != i:
            yield at(Code.SAMPLE_VILLAGE_DUPLICATE, sampling, "village", i, value="".join(key),
                     other=f"第 {sampling.rows[first[key]]} 行")


@check
def sample_townships(parsed: ParsedWorkbook) -> Iterator[Finding]:
    """Two townships, each with poverty-alleviation tasks."""
    sampling = parsed.tables["sampling"]
    townships: dict[str, int] = {}
    for i, township in enumerate(sampling.values["township"].tolist()):
        if township:
            townships.setdefault(township, i)
    if sampling.rows and len(townships) != TOWNSHIPS_PER_SAMPLE:
        yield at(Code.SAMPLE_TOWNSHIP_COUNT, sampling, "township", 0, value=len(townships))
    for township, i in townships.items():
        if sampling.values["township_has_task"][i] == NO:
            yield at(Code.SAMPLE_TOWNSHIP_NO_TASK, sampling, "township_has_task", i, value=township)


@check
def records_in_sample(parsed: ParsedWorkbook) -> Iterator[Finding]:
    """Households, village checks and interviews come from sampled villages."""
    sampled = sampled_villages(parsed.tables["sampling"])
    if not sampled:
        return
    for key in ("households", "villages", "interviews"):
        table = parsed.tables[key]
        keys = village_keys(table)
        strangers = set(keys) - set(sampled) - {None}
        for i, village in enumerate(keys):
            if village in strangers:
                yield at(Code.VILLAGE_NOT_SAMPLED, table, "village", i, value=_name(village))


@check
def households_per_village(parsed: ParsedWorkbook) -> Iterator[Finding]:
    """Five households of each type in every sampled village."""
    sampling, households = parsed.tables["sampling"], parsed.tables["households"]
    counts = Counter(zip(village_keys(households), households.values["household_type"].tolist(), strict=True))
    for key, i in sampled_villages(sampling).items():
        for kind in HOUSEHOLD_TYPES:
            count = counts[(key, kind)]
            if count != HOUSEHOLDS_PER_TYPE:
                yield at(Code.SAMPLE_HOUSEHOLD_COUNT, sampling, "village", i, value=_name(key), household_type=kind,
                         count=count, expected=HOUSEHOLDS_PER_TYPE)


@check
def interviews_per_village(parsed: ParsedWorkbook) -> Iterator[Finding]:
    """At least two interviews of each kind in every sampled village."""
    sampling, interviews = parsed.tables["sampling"], parsed.tables["interviews"]
    counts = Counter(zip(village_keys(interviews), interviews.values["kind"].tolist(), strict=True))
    for key, i in sampled_villages(sampling).items():
        for kind in INTERVIEW_KINDS:
            if counts[(key, kind)] < INTERVIEWS_PER_KIND:
                yield at(Code.SAMPLE_INTERVIEW_COUNT, sampling, "village", i, value=_name(key), kind=kind,
                         count=counts[(key, kind)], expected=INTERVIEWS_PER_KIND)


@check
def one_village_check_each(parsed: ParsedWorkbook) -> Iterator[Finding]:
    """Exactly one 村级核查 row per sampled village."""
    sampling, villages = parsed.tables["sampling"], parsed.tables["villages"]
    sampled = sampled_villages(sampling)
    if not sampled:
        return
    seen: dict[VillageKey, int] = {}
    for i, key in enumerate(village_keys(villages)):
        if key is None:
            continue
        if key in seen:
            yield at(Code.VILLAGE_CHECK_DUPLICATE, villages, "village", i, value=_name(key),
                     other=f"第 {villages.rows[seen[key]]} 行")
        seen.setdefault(key, i)
    for key, i in sampled.items():
        if key not in seen:
            yield at(Code.VILLAGE_CHECK_MISSING, sampling, "village", i, value=_name(key))
