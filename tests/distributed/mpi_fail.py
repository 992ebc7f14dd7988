"""One rank raises; the others are blocked in MPI. Run by test_failure.py, which checks that
the job ends (non-zero) within seconds with the failing rank's traceback.

    mpi_fail.py collective   rank 1 raises while rank 0 waits in an all_reduce
    mpi_fail.py ddp          rank 0 raises in its 3rd training step while rank 1 waits for
                             the gradients of its backward pass
"""

import sys

import numpy as np

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F

dist = rg.distributed
dist.init_process_group("mpi")
RANK = dist.get_rank()
mode = sys.argv[1]

if mode == "collective":
    dist.barrier()
    if RANK == 1:
        raise ValueError("boom on rank 1")
    dist.all_reduce(rg.ones(3))
elif mode == "ddp":
    rg.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1)))
    opt = rg.optim.SGD(model.parameters(), lr=0.1)
    x = rg.tensor(np.ones((2, 4), dtype=np.float32))
    for step in range(5):
        if RANK == 0 and step == 2:
            raise RuntimeError("step 2 failed on rank 0")
        opt.zero_grad()
        F.mse_loss(model(x), rg.zeros(2, 1)).backward()
        opt.step()
print(f"rank {RANK} should not get here", flush=True)
