"""parameters_to_vector / vector_to_parameters."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn.utils import parameters_to_vector, vector_to_parameters


def test_round_trip_matches_torch_layout(torch):
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    vec = parameters_to_vector(model.parameters())
    assert vec.shape == (11,)
    tvec = torch.tensor(vec.data.copy())
    torch.nn.utils.vector_to_parameters(tvec, tmodel.parameters())
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_array_equal(p.data, tp.detach().numpy())
    weight = model[0].weight
    vector_to_parameters(vec * 0 + 1, model.parameters())
    assert model[0].weight is weight and (weight.data == 1).all()


def test_vector_is_differentiable():
    model = nn.Linear(2, 2)
    (parameters_to_vector(model.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(model.weight.grad.data, 2 * model.weight.data)


def test_errors():
    params = list(nn.Linear(2, 2).parameters())
    with pytest.raises(ValueError, match="has 5 elements but the parameters have 6"):
        vector_to_parameters(rg.zeros(5), params)
    with pytest.raises(TypeError, match="expected 'vec' to be a Tensor"):
        vector_to_parameters([0.0] * 6, params)
