"""Padding and packing variable-length sequences (nn.utils.rnn): pad_sequence,
pack_padded_sequence, pad_packed_sequence, pack_sequence against torch, gradients through them,
and errors. The recurrent layers on packed input are tested in tests/nn/test_rnn.py."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn.utils import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(torch, batch_first, padding_side):
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal((n, 3)) for n in (2, 5, 3)]
    seqs = [rg.tensor(a, requires_grad=True) for a in arrays]
    out = pad_sequence(seqs, batch_first=batch_first, padding_value=-1.0,
                       padding_side=padding_side)
    expected = torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(a) for a in arrays], batch_first=batch_first, padding_value=-1.0,
        padding_side=padding_side)
    np.testing.assert_array_equal(out.data, expected.numpy())
    out.sum().backward()
    assert all(np.all(s.grad.data == 1.0) for s in seqs)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(("lengths", "enforce_sorted"),
                         [([4, 3, 3, 1], True), ([3, 4, 1, 3], False), ([2, 2, 2, 2], True)])
def test_pack_and_pad_match_torch(torch, batch_first, lengths, enforce_sorted):
    rng = np.random.default_rng(8)
    shape = (4, 5, 2) if batch_first else (5, 4, 2)
    x = rng.standard_normal(shape)
    ours = pack_padded_sequence(rg.tensor(x, requires_grad=True), lengths,
                                batch_first=batch_first, enforce_sorted=enforce_sorted)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(
        torch.tensor(x), lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(ours.data.data, theirs.data.numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    for mine, other in zip(ours[2:], theirs[2:]):
        assert (mine is None) == (other is None)
        if mine is not None:
            assert mine.tolist() == other.tolist()
    for total in (None, 6):
        padded, out_lengths = pad_packed_sequence(ours, batch_first, -2.0, total)
        t_padded, t_lengths = torch.nn.utils.rnn.pad_packed_sequence(
            theirs, batch_first, -2.0, total)
        np.testing.assert_array_equal(padded.data, t_padded.numpy())
        assert out_lengths.tolist() == t_lengths.tolist() == lengths


def test_packing_round_trip_passes_gradients_to_the_real_steps_only():
    x = rg.randn(4, 3, 2, requires_grad=True)
    lengths = [2, 4, 1]
    padded, _ = pad_packed_sequence(pack_padded_sequence(x, lengths, enforce_sorted=False))
    mask = np.arange(4)[:, None] < np.array(lengths)[None, :]
    np.testing.assert_array_equal(padded.data, x.data * mask[..., None])
    padded.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.broadcast_to(mask[..., None], x.shape))


def test_pack_sequence_matches_torch(torch):
    rng = np.random.default_rng(9)
    arrays = [rng.standard_normal((n, 3)) for n in (2, 5, 3)]
    ours = pack_sequence([rg.tensor(a) for a in arrays], enforce_sorted=False)
    theirs = torch.nn.utils.rnn.pack_sequence([torch.tensor(a) for a in arrays],
                                              enforce_sorted=False)
    np.testing.assert_array_equal(ours.data.data, theirs.data.numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    assert isinstance(ours, PackedSequence) and ours.double().data.dtype == rg.float64


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: pack_padded_sequence(rg.zeros(3, 2, 1), [1, 2]), RuntimeError,
         "must be sorted in decreasing order"),
        (lambda: pack_padded_sequence(rg.zeros(3, 2, 1), [2, 0], enforce_sorted=False),
         RuntimeError, "has to be greater than 0"),
        (lambda: pack_padded_sequence(rg.zeros(3, 2, 1), [4, 1]), ValueError,
         "a length of 4 for an input of 3 steps"),
        (lambda: pack_padded_sequence(rg.zeros(3, 2, 1), [3, 2, 1]), ValueError,
         r"3 lengths for an input of shape \(3, 2, 1\)"),
        (lambda: pad_packed_sequence(pack_sequence([rg.zeros(3, 1)]), total_length=2),
         ValueError, "Expected total_length to be at least"),
        (lambda: pad_sequence([rg.zeros(2, 3), rg.zeros(2, 4)]), ValueError,
         "same trailing dimensions"),
    ],
)
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
