"""Where the recommended losses disagree: the overlap of their worst rows, pair by pair."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lossctl.flows.recommend.facts import _ranks, _spearman, _top_share, _worst, top_k
from lossctl.flows.recommend.prose import num, pct
from lossctl.flows.recommend.thresholds import AGREE_CORR, SHOW_ROWS, WIDE_SHARE
from lossctl.report import Disagreement, PairAgreement, RowRank


def _disagreement(
    keys: Sequence[str],
    values: dict[str, np.ndarray],
    rows: np.ndarray,
    weight: np.ndarray | None,
    monotone: dict[frozenset[str], str],
    names: dict[str, str],
) -> Disagreement | None:
    """Compare the worst rows of every pair of losses; describe the least-agreeing pair."""
    distinct = _distinct(keys, values)
    if len(distinct) < 2:
        return None
    n = rows.shape[0]
    k = top_k(n)
    worst = {key: _worst(values[key], k) for key in distinct}
    # Ranks from the worst (1; ties share the best place) for the row lists, and
    # average ranks (ties share the mean place) for Spearman's correlation.
    both = {key: _ranks(values[key]) for key in distinct}
    ranks = {key: r[1] for key, r in both.items()}
    average = {key: r[0] for key, r in both.items()}
    pairs = _pairs(distinct, worst, average)
    least = min(pairs, key=_disagreement_of)
    corr = least.rank_correlation
    only_a = _only(least.a, least.b, worst, ranks, rows)
    only_b = _only(least.b, least.a, worst, ranks, rows)
    window = k
    if not only_a and not only_b and corr is not None and corr < AGREE_CORR:
        # Same worst rows, a different order below them: look a little further down.
        window = min(n, max(2 * k, math.ceil(WIDE_SHARE * n)))
        wide = {key: _worst(values[key], window) for key in (least.a, least.b)}
        only_a = _only(least.a, least.b, wide, ranks, rows)
        only_b = _only(least.b, least.a, wide, ranks, rows)
    shares = {key: _top_share(values[key], weight, k) for key in distinct}
    weigh = (
        f"The worst {k} rows carry "
        + ", ".join(f"{pct(shares[key])} of {key}" for key in distinct)
        + ": the larger the share, the more a handful of rows decides that loss."
    )
    if not only_a and not only_b:
        note = _agree_note(distinct, values, pairs, monotone, names, weigh)
    else:
        scope = "the worst" if window == k else f"the worst {window}"
        note = _disagree_note(least, worst, only_a, only_b, scope, weigh)
    return Disagreement(k, window, tuple(pairs), least, only_a, only_b, shares, note)


def _distinct(keys: Sequence[str], values: dict[str, np.ndarray]) -> list[str]:
    """The losses worth comparing: not 0 on every row, and not a copy of an earlier one."""
    # Losses with identical per-sample values (mse and rmse) would be a trivial pair, and
    # a loss that is 0 on every row (perfect predictions) has no worst rows to compare.
    distinct: list[str] = []
    for key in keys:
        if not values[key].any():
            continue
        if not any(np.array_equal(values[key], values[d]) for d in distinct):
            distinct.append(key)
    return distinct


def _pairs(
    distinct: Sequence[str], worst: dict[str, np.ndarray], average: dict[str, np.ndarray]
) -> list[PairAgreement]:
    """Every pair: the shared share of their worst rows, and their rank correlation."""
    pairs: list[PairAgreement] = []
    for i, a in enumerate(distinct):
        for b in distinct[i + 1 :]:
            wa, wb = worst[a], worst[b]
            smaller = min(int(wa.sum()), int(wb.sum()))
            overlap = float((wa & wb).sum()) / smaller if smaller else 1.0
            pairs.append(PairAgreement(a, b, overlap, _spearman(average[a], average[b])))
    return pairs


def _disagreement_of(pair: PairAgreement) -> tuple[float, float]:
    """Sort key: the least overlap first, then the least rank correlation."""
    corr = pair.rank_correlation
    return (pair.top_overlap, corr if corr is not None else 1.0)


def _only(
    x: str, y: str, masks: dict[str, np.ndarray], ranks: dict[str, np.ndarray], rows: np.ndarray
) -> tuple[RowRank, ...]:
    """Rows among x's worst that y ranks below its worst (not merely tied at 0)."""
    size = int(masks[y].sum())
    idx = np.flatnonzero(masks[x] & ~masks[y] & (ranks[y] > size))
    idx = idx[np.argsort(ranks[x][idx], kind="stable")][:SHOW_ROWS]
    return tuple(RowRank(int(rows[i]), int(ranks[x][i]), int(ranks[y][i])) for i in idx)


def _agree_note(
    distinct: Sequence[str],
    values: dict[str, np.ndarray],
    pairs: Sequence[PairAgreement],
    monotone: dict[frozenset[str], str],
    names: dict[str, str],
    weigh: str,
) -> str:
    """The losses agree on the worst rows: why, and where their order differs."""
    family = {names[key] for key in distinct}
    why = next((f": {q}" for fam, q in monotone.items() if family <= fam), "")
    lowest = min(
        (p.rank_correlation for p in pairs if p.rank_correlation is not None), default=None
    )
    note = f"The {len(distinct)} losses agree on which rows are worst{why}."
    if lowest is not None and lowest < AGREE_CORR:
        tied = [key for key in distinct if float(np.mean(values[key] == 0)) > WIDE_SHARE]
        because = (
            f", where {' and '.join(tied)} give{'s' if len(tied) == 1 else ''} many rows "
            "the same loss of 0"
            if tied
            else ""
        )
        note += (
            f" Their rank correlation is lower ({num(lowest)}) only among the better rows{because}."
        )
    return note + f" They differ in how much the worst rows weigh. {weigh}"


def _disagree_note(
    least: PairAgreement,
    worst: dict[str, np.ndarray],
    only_a: Sequence[RowRank],
    only_b: Sequence[RowRank],
    scope: str,
    weigh: str,
) -> str:
    """The least-agreeing pair: what they share, and the rows only one ranks worst."""
    corr = least.rank_correlation
    shared = int((worst[least.a] & worst[least.b]).sum())
    size = min(int(worst[least.a].sum()), int(worst[least.b].sum()))
    corr_text = f"rank correlation {num(corr)}" if corr is not None else "one is constant"
    if shared == size:
        head = (
            f"{least.a} and {least.b} agree least: they share all {size} of their worst "
            f"rows but order the other rows differently ({corr_text})."
        )
    else:
        head = (
            f"{least.a} and {least.b} disagree most: they share {shared} of their {size} "
            f"worst rows ({corr_text})."
        )
    parts = [head]
    if only_a:
        parts.append(_rows_sentence(only_a, least.a, least.b, scope))
    if only_b:
        parts.append(_rows_sentence(only_b, least.b, least.a, scope))
    parts.append("Look at those rows: choosing a loss is choosing which mistakes matter.")
    parts.append(weigh)
    return " ".join(parts)


def _rows_sentence(items: Sequence[RowRank], a: str, b: str, scope: str) -> str:
    """'Rows 12 (#1 vs #310), 40 (#3 vs #95) are among the worst under a but not under b.'"""
    listed = ", ".join(f"{r.row} (#{r.rank_a} vs #{r.rank_b})" for r in items)
    s, verb = ("s", "are") if len(items) > 1 else ("", "is")
    return f"Row{s} {listed} {verb} among {scope} under {a} but not under {b}."
