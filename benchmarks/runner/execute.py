"""Where and how the planned runs train: one interface, ``train(todo, dataset, args)`` -> the
failures, and an executor per name (``--executor``). Adding one is one decorated function::

    @register_executor("slurm")
    def slurm(todo, dataset, args) -> list[str]:
        ...  # train every (RunConfig, state) in todo; return one line per failed run

``local`` trains in this process or, with ``--jobs N``, in N worker processes; ``ray`` on a Ray
cluster. Every executor trains through :func:`rann.training.train_run`, whose run locks let two
workers (or two commands) share a plan.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path
from typing import Callable

from tqdm.auto import tqdm

from benchmarks.core.registry import Registry
from benchmarks.runner.plan import open_dataset
from rann.config import RunConfig
from rann.training import RunLockedError, train_run

#: executor name -> ``fn(todo, dataset, args) -> failures``
EXECUTORS = Registry("executor")


def register_executor(name: str) -> Callable:
    """Register the decorated function as the executor ``name`` (``--executor name``)."""

    def add(fn: Callable) -> Callable:
        return EXECUTORS.add(name, fn)

    return add


def train(todo, dataset, args) -> list[str]:
    """Train ``todo`` (``(RunConfig, state)`` pairs) with ``args.executor``; one line per failed run."""
    return EXECUTORS.get(args.executor)(todo, dataset, args)


@register_executor("local")
def local(todo, dataset, args) -> list[str]:
    """On this machine: in this process, or in ``--jobs N`` worker processes."""
    return train_jobs(todo, args) if args.jobs > 1 else train_local(todo, dataset, args)


@register_executor("ray")
def ray_tasks(todo, dataset, args) -> list[str]:
    """One Ray task per run, on a local instance or ``--ray-address``."""
    return train_ray(todo, args)


def train_local(todo, dataset, args, *, progress: bool = True) -> list[str]:
    """Train ``todo`` on ``dataset`` in order. A run another process is training (another worker,
    or a second copy of the command) is left to it and revisited at the end: then we wait for it
    and reuse its result."""
    failures: list[str] = []
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress)
    queue = [(cfg, False) for cfg, _ in todo]  # (run, wait for another process's lock)
    while queue:
        cfg, wait = queue.pop(0)
        try:
            train_run(cfg, dataset, runs_root=args.runs_dir, device=args.device, wait=wait, progress=progress)
        except RunLockedError:
            queue.append((cfg, True))
            continue
        except Exception as exc:  # reported, never silently dropped
            failures.append(f"{cfg.feature} fold {cfg.fold} seed {cfg.seed}: {type(exc).__name__}: {exc}")
        bar.update(1)
    bar.close()
    return failures


def _worker(todo: list, args, threads: int) -> list[str]:
    """One ``--jobs`` process: ``threads`` torch threads, its own dataset object, the whole plan
    (the run locks share the runs out between the workers)."""
    import torch

    torch.set_num_threads(threads)
    return train_local(todo, open_dataset(args, progress=False), args, progress=False)


def _job(worker, share, args, threads: int, conn) -> None:
    """A ``--jobs`` child process: ``worker``'s failures sent back through ``conn``."""
    try:
        failures = worker(share, args, threads)
    except Exception as exc:  # reported by the parent, as a run's failure is
        failures = [f"{multiprocessing.current_process().name}: {type(exc).__name__}: {exc}"]
    conn.send(failures)
    conn.close()


def _stop(signum, frame):
    """SIGTERM in the parent becomes an exception, so that its workers are stopped with it."""
    raise SystemExit(128 + signum)


def train_jobs(todo, args, worker=_worker) -> list[str]:
    """``--jobs N`` processes on this machine, the cores split between them; worker ``i`` starts
    ``i / N`` of the way into the plan, so they rarely meet at a lock. Two single-thread workers
    train about 15 % more runs per hour on 2 cores than one two-thread process.

    Stopping the command (Ctrl-C, or SIGTERM to this process alone, as ``kill`` or a scheduler
    sends it) stops the workers too; their runs resume from their last checkpoint."""
    n = max(1, args.jobs)
    threads = max(1, len(os.sched_getaffinity(0)) // n)
    shares = [todo[i * len(todo) // n :] + todo[: i * len(todo) // n] for i in range(n)]
    ctx = multiprocessing.get_context("spawn")
    procs, pipes = [], []
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        for i, share in enumerate(shares):
            recv, send = ctx.Pipe(duplex=False)
            procs.append(ctx.Process(target=_job, args=(worker, share, args, threads, send), name=f"worker {i}"))
            procs[-1].start()
            send.close()  # the child holds the other end: EOF here when it dies without a word
            pipes.append(recv)
        failures = []
        for proc, recv in zip(procs, pipes):
            try:
                sent = recv.recv()
            except EOFError:  # killed (out of memory?) or crashed: no word back
                sent = None
            proc.join()
            failures += (
                sent
                if sent is not None
                else [f"{proc.name} died (exit code {proc.exitcode}) before it finished its share"]
            )
    except BaseException:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    return sorted(set(failures))


def train_ray(todo, args) -> list[str]:
    try:
        import ray
    except ImportError:
        raise SystemExit('error: --executor ray needs Ray: pip install -e ".[distributed]"') from None
    ray.init(
        address=args.ray_address,
        num_cpus=None if args.ray_address else args.jobs * args.cpus_per_run,
        ignore_reinit_error=True,
        include_dashboard=False,
        log_to_driver=False,
    )
    runs_dir, device = str(Path(args.runs_dir).resolve()), args.device

    @ray.remote(num_cpus=args.cpus_per_run, num_gpus=args.gpus_per_run, max_retries=1, retry_exceptions=True)
    def remote_run(cfg_dict):
        import torch

        torch.set_num_threads(max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1))))
        cfg = RunConfig.from_dict(cfg_dict)
        dataset = open_dataset(args, progress=False)
        # wait=True: a run another command is training is waited for and reused, as in train_local
        return str(train_run(cfg, dataset, runs_root=runs_dir, device=device, progress=False, wait=True).folder)

    refs = {remote_run.remote(cfg.to_dict()): cfg for cfg, _ in todo}
    failures = []
    with tqdm(total=len(refs), desc="runs (ray)", unit="run") as bar:
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            try:
                ray.get(done[0])
            except Exception as exc:  # failed twice (Ray retried once)
                cfg = refs[done[0]]
                failures.append(
                    f"{cfg.feature} fold {cfg.fold}: failed after one retry: {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0]}"
                )
            bar.update(1)
    return failures
