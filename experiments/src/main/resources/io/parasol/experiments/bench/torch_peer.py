#!/usr/bin/env python3
"""PyTorch peer for the Parasol distributed-SGD training benchmark.

Runs the same job as the Java side; prints ONE JSON object on stdout, logs to stderr.
  * Data: Fashion-MNIST IDX files in --data ({train,t10k}-{images-idx3,labels-idx1}
    -ubyte[.gz]); train 60,000, test the t10k 10,000. Pixels as float32, scaled as
    Parasol's --scaling: minmax x/255 (the pixels span 0..255), standard (x - mean) /
    std per pixel, fitted on the 60,000 training images (population std; a pixel of
    std 0 only centred).
  * Partition: epoch e uses perm_e = numpy.random.RandomState(seed + e)
    .permutation(60000); worker r (0-based) owns the strided shard perm_e[r::m]
    and at step b of the epoch uses shard[b*B:(b+1)*B]. Steps per epoch =
    60000 // (m*B) (468 for m=4, B=32); --steps overrides steps per worker.
  * Model: build_model(); --optimizer sgd (plain SGD) or adam (betas 0.9, 0.999,
    eps 1e-8, as Parasol's server) on mean softmax cross-entropy of the batch; the
    async server keeps the optimizer's state and steps it once per gradient.
  * Step-size schedule: --lr-schedule as Parasol's (constant, cosine[:F],
    step:P1[,P2...]:FACTOR), a function of the update count v over the run's
    updates T: sync v = the step, T = the steps; async v = the server's
    updates so far, T = m * steps (Parasol's shards: a block's version over
    the job's horizon). The factor multiplies --lr before each update.
  * sync:  DistributedDataParallel (gloo, 127.0.0.1); gradients are averaged
           over the m workers every step (effective batch m*B).
    async: parameter server over torch.distributed.rpc (TensorPipe, 127.0.0.1):
           rank 0 holds the model; each of the m workers loops get-params ->
           local gradient -> send gradient, and the server applies every
           gradient immediately under a lock (Downpour).
  * Timing starts after start-up/initialisation (DDP: after a barrier; RPC: on
    the server once init_rpc, a rendezvous of all processes, returns) and ends
    when all workers finished their steps. Periodic evaluations (--eval-every)
    pause the clock: their duration, measured by the evaluating process (DDP
    rank 0 / the server, holding the update lock), is subtracted from wall_s
    and time_to_target_s. Other workers block on the next allreduce / RPC only
    after finishing their current step, so each evaluation can hide up to one
    step of their compute: use --eval-every 0 for pure throughput figures
    (time_to_target_s then is wall_s if the final model reaches the target).
"""
import argparse
import gzip
import json
import math
import os
import socket
import sys
import threading
import time

import numpy as np

TRAIN_N = 60000


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", choices=["sync", "async"], default="sync")
    p.add_argument("--model", default="mlp",
                   help="mlp, cnn (16,32,128) or cnn:C1,C2[,H]")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--scaling", choices=["minmax", "standard"], default="minmax")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--lr-schedule", default="constant",
                   help="constant, cosine[:F] or step:P1[,P2...]:FACTOR (as Parasol's)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--steps", type=int, help="steps per worker (overrides --epochs)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--target-accuracy", type=float, default=0.80)
    p.add_argument("--eval-every", type=int, default=50,
                   help="evaluate every N steps per worker (0 = only at end)")
    p.add_argument("--threads", type=int, default=1, help="threads per process")
    a = p.parse_args(argv)
    if a.model != "mlp" and a.model != "cnn" and not a.model.startswith("cnn:"):
        p.error("--model must be mlp, cnn or cnn:C1,C2[,H], got %s" % a.model)
    a.steps_per_epoch = TRAIN_N // (a.workers * a.batch_size)
    a.total_steps = a.steps if a.steps is not None else a.epochs * a.steps_per_epoch
    return a


def log(*msg):
    print("[torch_peer %d]" % os.getpid(), *msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data ---
def _idx_path(d, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise FileNotFoundError("missing %s[.gz] in %s" % (stem, d))


def read_idx(path):
    """Read an IDX file (optionally gzip'd) into a uint8 numpy array."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_split(d, prefix):
    """Return (images uint8 [N,784], labels int64 [N]); scaling happens per batch."""
    x = read_idx(_idx_path(d, prefix + "-images-idx3-ubyte")).reshape(-1, 784)
    y = read_idx(_idx_path(d, prefix + "-labels-idx1-ubyte")).astype("int64")
    return x, y


_SCALE = None  # (shift, multiplier) per pixel, fitted on the training set once per process


def fit_scaling(a, x=None):
    """Parasol's --scaling, fitted on the training images x (uint8 [60000, 784]; read from
    --data when None): (shift, multiplier) per pixel, x' = (x - shift) * multiplier; a
    constant pixel maps to 0 (minmax) or is centred. Called before the clock starts."""
    global _SCALE
    if _SCALE is None:
        if x is None:
            x = load_split(a.data, "train")[0]
        if a.scaling == "minmax":
            lo, hi = x.min(axis=0).astype("float64"), x.max(axis=0).astype("float64")
            shift, span = lo, hi - lo
            mul = np.where(span > 0, 1.0 / np.where(span > 0, span, 1.0), 0.0)
        else:
            shift, std = x.mean(axis=0, dtype=np.float64), x.std(axis=0, dtype=np.float64)
            mul = np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 1.0)
        _SCALE = (shift.astype("float32"), mul.astype("float32"))
    return _SCALE


def to_input(x_u8, a):
    """uint8 [N,784] -> float32 tensor scaled as --scaling, shaped for the model."""
    shift, mul = fit_scaling(a)
    t = torch.from_numpy((x_u8.astype("float32") - shift) * mul)
    return t.view(-1, 1, 28, 28) if a.model.startswith("cnn") else t


class Shard:
    """Worker `rank`'s batches: strided shard of a per-epoch seeded permutation."""

    def __init__(self, a, rank, x, y):
        self.a, self.rank, self.x, self.y, self.epoch, self.idx = a, rank, x, y, -1, None
        fit_scaling(a, x)

    def batch(self, step):
        e, b = divmod(step, self.a.steps_per_epoch)
        if e != self.epoch:
            perm = np.random.RandomState(self.a.seed + e).permutation(TRAIN_N)
            self.epoch, self.idx = e, perm[self.rank::self.a.workers]
        i = self.idx[b * self.a.batch_size:(b + 1) * self.a.batch_size]
        return to_input(self.x[i], self.a), torch.from_numpy(self.y[i])


# --------------------------------------------------------------- model ---
def cnn_widths(name):
    """(C1, C2, H) of cnn (Parasol's default 16,32,128) or cnn:C1,C2[,H] (H 0: none)."""
    if name == "cnn":
        return 16, 32, 128
    w = [int(v) for v in name[4:].split(",")]
    return w[0], w[1], w[2] if len(w) > 2 else 0


def build_model(name, seed):
    """The benchmark models (the Java side must build the identical network).

    mlp: Linear(784->64) -> ReLU -> Linear(64->10)                50,890 params
    cnn:C1,C2,H (cnn = cnn:16,32,128, 80,202 params; cnn:6,16,0 LeNet's 5,142):
         input [N,1,28,28]
         Conv2d(1->C1, 5x5, stride 1, pad 0)  -> [N,C1,24,24] -> ReLU
         MaxPool2d(2, stride 2)               -> [N,C1,12,12]
         Conv2d(C1->C2, 5x5, stride 1, pad 0) -> [N,C2,8,8]   -> ReLU
         MaxPool2d(2, stride 2)               -> [N,C2,4,4]
         Flatten (C,H,W order)                -> [N,16*C2]
         H > 0: Linear(16*C2->H) -> ReLU -> Linear(H->10); H = 0: Linear(16*C2->10)
    Output: logits; loss = softmax cross-entropy (mean over batch).
    Init: every weight Glorot/Xavier-uniform, U(-s, s), s = sqrt(6/(fan_in+fan_out))
    (conv: fan_in = in_ch*5*5, fan_out = out_ch*5*5); every bias zero.
    """
    torch.manual_seed(seed)
    nn = torch.nn
    if name == "mlp":
        m = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    else:
        c1, c2, h = cnn_widths(name)
        head = [nn.Linear(16 * c2, h), nn.ReLU(), nn.Linear(h, 10)] if h \
            else [nn.Linear(16 * c2, 10)]
        m = nn.Sequential(nn.Conv2d(1, c1, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), *head)
    for mod in m.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(mod.weight)
            nn.init.zeros_(mod.bias)
    return m


def evaluate(model, x_test, y_test, a):
    """(accuracy, mean cross-entropy) on the full test set."""
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for s in range(0, len(y_test), 2500):
            out = model(to_input(x_test[s:s + 2500], a))
            y = torch.from_numpy(y_test[s:s + 2500])
            loss += torch.nn.functional.cross_entropy(out, y, reduction="sum").item()
            correct += (out.argmax(1) == y).sum().item()
    model.train()
    return correct / len(y_test), loss / len(y_test)


class Clock:
    """Wall clock that can exclude evaluation pauses; tracks time-to-target."""

    def __init__(self, target):
        self.target, self.t0, self.paused, self.ttt = target, None, 0.0, None

    def start(self):
        self.t0, self.paused = time.perf_counter(), 0.0

    def elapsed(self):  # wall time since start() minus evaluation pauses
        return time.perf_counter() - self.t0 - self.paused

    def eval_paused(self, fn):
        t = time.perf_counter()
        now = t - self.t0 - self.paused
        acc, loss = fn()
        self.paused += time.perf_counter() - t
        if self.ttt is None and acc >= self.target:
            self.ttt = now
        return acc, loss


def result(a, system, wall, acc, loss, ttt):
    samples = a.total_steps * a.workers * a.batch_size
    return {"system": system, "torch": torch.__version__, "model": a.model,
            "mode": a.mode, "workers": a.workers, "batch_size": a.batch_size,
            "lr": a.lr, "lr_schedule": a.lr_schedule, "epochs": a.epochs, "steps_per_worker": a.total_steps,
            "samples": samples, "wall_s": round(wall, 4),
            "samples_per_s": round(samples / wall, 1), "test_accuracy": acc,
            "test_loss": round(loss, 6), "threads_per_process": a.threads,
            "time_to_target_s": None if ttt is None else round(ttt, 4)}


def lr_factor(schedule, v, horizon):
    """Parasol's LrSchedules.factor: the factor of the step size at update v of horizon."""
    parts = schedule.strip().lower().split(":")
    p = min(1.0, max(0.0, v / float(horizon))) if horizon > 0 else 0.0
    if parts[0] == "constant":
        return 1.0
    if parts[0] == "cosine":
        f = float(parts[1]) if len(parts) > 1 else 0.0
        return f + (1 - f) * 0.5 * (1 + math.cos(math.pi * p))
    if parts[0] == "step":
        out, factor = 1.0, float(parts[2])
        for m in parts[1].split(","):
            if p >= float(m):
                out *= factor
        return out
    raise ValueError("unknown --lr-schedule %r" % schedule)


def set_lr(a, opt, v, horizon):
    for g in opt.param_groups:
        g["lr"] = a.lr * lr_factor(a.lr_schedule, v, horizon)


def make_optimizer(a, params):
    if a.optimizer == "adam":
        return torch.optim.Adam(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    return torch.optim.SGD(params, lr=a.lr)


# ---------------------------------------------------------- sync (DDP) ---
def ddp_main(rank, a, port, q):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    torch.set_num_threads(a.threads)
    shard = Shard(a, rank, *load_split(a.data, "train"))
    if rank == 0:
        x_test, y_test = load_split(a.data, "t10k")
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%d" % port,
                            rank=rank, world_size=a.workers)
    model = DDP(build_model(a.model, a.seed))  # broadcasts rank 0's weights
    opt = make_optimizer(a, model.parameters())
    lossf = torch.nn.CrossEntropyLoss()
    clock = Clock(a.target_accuracy)
    dist.barrier()
    clock.start()
    for step in range(a.total_steps):
        xb, yb = shard.batch(step)
        opt.zero_grad(set_to_none=True)
        lossf(model(xb), yb).backward()  # gradient allreduce (average) here
        set_lr(a, opt, step, a.total_steps)
        opt.step()
        if rank == 0 and a.eval_every and (step + 1) % a.eval_every == 0 \
                and step + 1 < a.total_steps:
            acc, _ = clock.eval_paused(lambda: evaluate(model.module, x_test, y_test, a))
            log("step %d acc %.4f t %.3f" % (step + 1, acc, clock.elapsed()))
    dist.barrier()
    wall = clock.elapsed()  # on rank 0 only the eval pauses are subtracted
    if rank == 0:
        acc, loss = clock.eval_paused(lambda: evaluate(model.module, x_test, y_test, a))
        q.put(result(a, "pytorch-ddp", wall, acc, loss, clock.ttt))
    dist.destroy_process_group()


# ------------------------------------------------- async (RPC param server) ---
_PS = None      # the ParameterServer instance, in the server process
_WORKER = None  # (args, Shard, model) in a worker process


class ParameterServer:
    """Holds the model; applies each incoming gradient immediately (Downpour)."""

    def __init__(self, a):
        self.a, self.lock = a, threading.Lock()
        self.model = build_model(a.model, a.seed)
        params = list(self.model.parameters())
        # One flat buffer; the parameters become views into it (like the Java PS).
        self.flat = torch.nn.utils.parameters_to_vector(params).detach()
        torch.nn.utils.vector_to_parameters(self.flat, params)
        self.opt = make_optimizer(a, [self.flat])  # state over the flat buffer
        self.x_test, self.y_test = load_split(a.data, "t10k")
        fit_scaling(a)
        self.clock, self.updates = Clock(a.target_accuracy), 0
        self.eval_period = a.eval_every * a.workers  # global updates per eval
        self.total = a.total_steps * a.workers

    def get_params(self):
        with self.lock:
            return self.flat.clone()

    def apply(self, flat_grad):
        with self.lock:
            self.flat.grad = flat_grad
            set_lr(self.a, self.opt, self.updates, self.total)
            self.opt.step()
            self.updates += 1
            if self.eval_period and self.updates % self.eval_period == 0 \
                    and self.updates < self.total:  # evaluate holding the lock
                acc, _ = self.clock.eval_paused(self.evaluate)
                log("update %d acc %.4f t %.3f" % (self.updates, acc, self.clock.elapsed()))

    def evaluate(self):
        return evaluate(self.model, self.x_test, self.y_test, self.a)


def ps_get_params():
    return _PS.get_params()


def ps_apply(flat_grad):
    _PS.apply(flat_grad)


def worker_run():
    """Runs on a worker (triggered by the server): the whole training loop."""
    import torch.distributed.rpc as rpc
    a, shard, model = _WORKER
    torch.set_num_threads(a.threads)  # RPC handler thread
    lossf = torch.nn.CrossEntropyLoss()
    params = list(model.parameters())
    for step in range(a.total_steps):
        flat = rpc.rpc_sync("ps", ps_get_params)
        torch.nn.utils.vector_to_parameters(flat, params)
        model.zero_grad(set_to_none=True)
        xb, yb = shard.batch(step)
        lossf(model(xb), yb).backward()
        rpc.rpc_sync("ps", ps_apply, args=(torch.cat([p.grad.reshape(-1) for p in params]),))
    return a.total_steps


def rpc_main(rank, a, port, q):
    global _PS, _WORKER
    import torch.distributed.rpc as rpc
    torch.set_num_threads(a.threads)
    if rank == 0:
        _PS, name = ParameterServer(a), "ps"
    else:
        shard = Shard(a, rank - 1, *load_split(a.data, "train"))
        _WORKER = (a, shard, build_model(a.model, a.seed))
        name = "worker%d" % (rank - 1)
    opts = rpc.TensorPipeRpcBackendOptions(
        init_method="tcp://127.0.0.1:%d" % port,
        num_worker_threads=max(8, 2 * a.workers + 2), rpc_timeout=0)
    rpc.init_rpc(name, rank=rank, world_size=a.workers + 1, rpc_backend_options=opts)
    if rank == 0:  # init_rpc returned: every process has joined
        _PS.clock.start()
        torch.futures.wait_all([rpc.rpc_async("worker%d" % w, worker_run, timeout=0)
                                for w in range(a.workers)])
        wall = _PS.clock.elapsed()
        acc, loss = _PS.clock.eval_paused(_PS.evaluate)
        q.put(result(a, "pytorch-rpc-ps", wall, acc, loss, _PS.clock.ttt))
    rpc.shutdown()


# ---------------------------------------------------------------- main ---
def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    global torch
    a, port = parse_args(), free_port()
    t = str(a.threads)  # children inherit this environment (spawn)
    os.environ.update({"OMP_NUM_THREADS": t, "MKL_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t,
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                       "GLOO_SOCKET_IFNAME": "lo", "TP_SOCKET_IFNAME": "lo"})
    try:
        import torch  # noqa: F811  (after the thread env vars are set)
        import torch.multiprocessing as mp
    except ImportError as e:
        sys.exit("torch_peer: PyTorch is not available (%s)" % e)
    try:
        for split in ("train", "t10k"):
            for kind in ("images-idx3", "labels-idx1"):
                _idx_path(a.data, "%s-%s-ubyte" % (split, kind))
    except FileNotFoundError as e:
        sys.exit("torch_peer: data: %s" % e)
    torch.set_num_threads(a.threads)
    q = mp.get_context("spawn").SimpleQueue()
    log("mode=%s model=%s workers=%d steps/worker=%d port=%d"
        % (a.mode, a.model, a.workers, a.total_steps, port))
    if a.mode == "sync":
        mp.spawn(ddp_main, args=(a, port, q), nprocs=a.workers, join=True)
    else:
        mp.spawn(rpc_main, args=(a, port, q), nprocs=a.workers + 1, join=True)
    print(json.dumps(q.get()), flush=True)


torch = None  # imported in main() after the thread environment is fixed
if __name__ == "__main__":
    main()
else:  # spawned children import this module as __mp_main__
    import torch  # noqa: E402,F811
