"""--by with many groups: labels as arrays (lossctl.inputs.labels), results as pandas'."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import lossctl
from lossctl.inputs import labels as labels_module
from lossctl.inputs import readers, sources, validate
from lossctl.inputs.labels import LabelIndex, Labels, group_rows
from lossctl.inputs.validate import group_codes

GROUPS = 200_000


@pytest.fixture(scope="module")
def many_groups(tmp_path_factory):
    """A CSV of 200,000 groups (about 3 rows each), some labels with spaces around them
    (the same group as without), some rows without a group (the group '<null>')."""
    rng = np.random.default_rng(7)
    n = 3 * GROUPS
    g = rng.integers(0, GROUPS, n)
    labels = np.array([f"g{i}" for i in range(GROUPS)], dtype=object)[g]
    spaced = rng.random(n) < 0.05
    labels[spaced] = [f"  {s}\t" for s in labels[spaced]]
    labels[rng.random(n) < 0.01] = None
    y = rng.normal(0, 3, n)
    df = pd.DataFrame({"y_true": y, "y_pred": y + rng.normal(0, 1, n), "grp": labels})
    path = tmp_path_factory.mktemp("many") / "many.csv"
    df.to_csv(path, index=False)
    return df, path


def _by_hand(df: pd.DataFrame) -> pd.DataFrame:
    err = df.y_pred - df.y_true
    key = df.grp.str.strip().fillna("<null>")
    out = pd.DataFrame({"mse": err**2, "mae": err.abs(), "n": 1}).groupby(key, sort=False)
    return out.agg({"mse": "mean", "mae": "mean", "n": "sum"})


@pytest.mark.parametrize(
    ("workers", "read", "every"),
    [(2, "text", 1), (1, "text", 97), (2, "dictionary", 97), (1, "dictionary", 97)],
)
def test_many_groups_equal_pandas_groupby(many_groups, monkeypatch, workers, read, every):
    """Every group (or every 97th: a group's report is Python objects, slow to make for
    200,000), against pandas."""
    df, path = many_groups
    monkeypatch.setattr(readers, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(readers, "PART_BYTES", 2 << 20)  # parts of 2 MB: several
    parts = sources.open_source(str(path)).parts(2)
    assert parts is not None and len(parts) >= 4
    if read == "dictionary":  # the reader's dictionaries, as with few groups
        monkeypatch.setattr(validate, "mostly_distinct", lambda table, columns: ())
    report = lossctl.evaluate(
        str(path), ["mse", "mae"], by="grp", workers=workers, chunk_size=100_000
    )
    want = _by_hand(df)
    groups = report.groups  # (not the report in assertions: its repr is a long table)
    shown = list(groups)
    assert len(shown) == len(want) > 0.9 * GROUPS
    assert shown == sorted(want.index)  # label order, as str sorts
    assert "<null>" in groups and "g5" in groups and "  g5\t" not in groups
    checked = shown[::every]
    got = pd.DataFrame(
        {
            "mse": [groups[g].losses["mse"].cost for g in checked],
            "mae": [groups[g].losses["mae"].cost for g in checked],
            "n": [groups[g].n_used for g in checked],
        },
        index=checked,
    )
    want = want.loc[checked]
    assert (got.n.to_numpy() == want.n.to_numpy()).all()
    np.testing.assert_allclose(got.mse, want.mse, rtol=1e-12)
    np.testing.assert_allclose(got.mae, want.mae, rtol=1e-12)


def test_parallel_parts_equal_one_pass_with_many_groups(many_groups, monkeypatch):
    _, path = many_groups
    monkeypatch.setattr(readers, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(readers, "PART_BYTES", 2 << 20)
    one = lossctl.evaluate(str(path), ["mse", "mae"], by="grp", workers=1).groups
    many = lossctl.evaluate(str(path), ["mse", "mae"], by="grp", workers=2).groups
    assert list(one) == list(many)
    for g in list(one)[::997]:
        a, b = one[g], many[g]
        assert a.n_used == b.n_used
        for key in ("mse", "mae"):
            for stat in ("cost", "sum", "std", "min", "max"):
                assert getattr(b.losses[key], stat) == pytest.approx(
                    getattr(a.losses[key], stat), rel=1e-12
                )


# -- the label arrays themselves -------------------------------------------------------

WORDS = ["a", "b", "é", "\x00", " ", "日", "ab", "x" * 9, "<null>"]


def _random_labels(rng: np.random.Generator, n: int) -> list[str]:
    sizes = rng.choice([0, 1, 2, 3, 5, 8, 9, 17], n)
    return ["".join(rng.choice(WORDS, s)) for s in sizes]


@pytest.fixture(params=[False, True], ids=["hash", "colliding-hash"])
def hashing(request, monkeypatch):
    """The real hash, or one of four values (every lookup meets other labels)."""
    if request.param:
        real = labels_module._hash
        monkeypatch.setattr(labels_module, "_hash", lambda d, s, n: real(d, s, n) & np.uint64(3))


def test_label_index_is_a_dict_of_first_appearance(hashing):
    rng = np.random.default_rng(1)
    for _ in range(30):
        index, ref = LabelIndex(), {}
        for _block in range(4):
            block = _random_labels(rng, int(rng.integers(0, 80)))
            if rng.random() < 0.3:  # a lookup only
                got = index.slots(Labels.of(block), add=False)
                assert got.tolist() == [ref.get(x, -1) for x in block]
                continue
            lab = Labels.of(block)
            if rng.random() < 0.5:
                keep = np.flatnonzero(rng.random(len(block)) < 0.6)
                lab, block = lab.subset(keep), [block[i] for i in keep]
            got = index.slots(lab)
            assert got.tolist() == [ref.setdefault(x, len(ref)) for x in block]
        assert index.labels.tolist() == list(ref)
        assert [index.labels[i] for i in index.order()] == sorted(ref)
        assert all(index.slot(x) == i for x, i in ref.items()) and index.slot("zz?") is None
        again = pickle.loads(pickle.dumps(index))
        assert again.slots(list(ref), add=False).tolist() == list(range(len(ref)))


def test_group_rows_groups_equal_labels_in_first_appearance_order(hashing):
    rng = np.random.default_rng(2)
    for _ in range(50):
        rows = _random_labels(rng, int(rng.integers(1, 200)))
        codes, labels, order = group_rows(Labels.of(rows))
        assert [labels[c] for c in codes] == rows
        assert list(labels) == list(dict.fromkeys(rows))
        if order is not None:  # each group's rows together, the groups in code order
            assert sorted(order.tolist()) == list(range(len(rows)))
            assert (np.diff(codes[order]) >= 0).all()


def test_group_codes_strip_and_null_on_text_and_dictionaries():
    values = ["a", " a", "b\t", None, "<null>", "\u3000b", "c", None]
    rows = ["a", "a", "b", "<null>", "<null>", "b", "c", "<null>"]
    text = pa.array(values)
    for col in (
        text,
        pa.chunked_array([text[:3], text[3:]]),
        pc.dictionary_encode(text),
        pa.chunked_array([pc.dictionary_encode(text[:4]), pc.dictionary_encode(text[4:])]),
    ):
        groups = group_codes(col)
        assert [groups.labels[c] for c in groups.codes] == rows
        assert sorted(groups.labels) == ["<null>", "a", "b", "c"]
