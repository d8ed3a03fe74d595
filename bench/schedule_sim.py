"""How the time-limited schedule spends a limit: simulated on the portfolio's units.

    python -m bench.schedule_sim

For every training part of the development suite that ``bench/portfolio.py`` ran (its
``units.csv``: each configuration's measured seconds and CV score per fold, on one thread),
the real :class:`~foldstack.selection._schedule.TimeLimitedSchedule` hands out the
portfolio's (configuration, fold) tasks in the shipped order to two simulated workers, with
an injected clock advanced by the measured seconds, under limits of 10 %, 25 % and 50 % of
what running everything would take.  A boosting or network fold whose stop time comes
before its measured seconds is cut there (a forest or linear fold runs to its end, as they
do); a configuration counts as found only when none of its folds was cut (a cut model is not
credited: the simulation cannot score it; ``mean_norm_cut_credited`` is the other bound,
crediting a cut configuration as if it had finished).  The value of a run is the
best CV score among the configurations found, normalised per set between the worst and the
best single configuration (0 .. 1), averaged over sets; the mean rank of the policies is
beside it.

Policies: ``share`` (the share of the time left granted to a configuration when it starts;
1.0 is the schedule before grants existed) and ``prior xS`` (the a-priori cost model refuses
to start a configuration expected to need more than S times its grant; without it, none is
refused before its first fold) and ``cut C`` (a configuration one of whose folds was cut
keeps at most C of the time left then).  The cost model of each set is fitted on the *other*
sets' units (leave one set out), so a set never predicts its own costs.  Nothing here reads
a test part.  The table goes to ``bench/results/schedule_sim.csv``; it chose the rules and
constants of ``foldstack.selection._schedule`` (``SHARE``, ``PRIOR_SLACK``, ``CUT_SHARE``),
on ``mean_norm`` then ``mean_rank``.  Limits: two workers of one thread (the units' setting),
the best single configuration rather than the ensemble, one split per set, the same 27 sets
the portfolio's order was chosen on.
"""

from __future__ import annotations

import heapq
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from bench import _suite  # noqa: E402
from bench import portfolio as pf  # noqa: E402

FRACTIONS = (0.1, 0.25, 0.5)
# (share, prior slack or None for no prior, cut share)
POLICIES = [(1.0, None, 1.0), (1.0, 1.0, 1.0), (1.0, 2.0, 1.0), (1.0, 4.0, 1.0),
            (0.5, None, 1.0), (0.5, 1.0, 1.0), (0.5, 2.0, 1.0), (0.5, 4.0, 1.0),
            (0.33, 2.0, 1.0), (0.25, 2.0, 1.0),
            (1.0, 1.0, 0.5), (1.0, 1.0, 0.25), (1.0, 2.0, 0.5), (0.5, 1.0, 0.5)]
WORKERS = 2
# families that stop a fit at its stop time (rounds, epochs); the others run to the end
STOPPABLE = {"lightgbm", "catboost", "xgboost", "mlp"}
family = {name: config.family for name, config in pf.CONFIGS.items()}


@dataclass
class _Done:
    candidate: str
    fold: int
    cut: bool


def simulate(order: list[str], seconds: dict[str, list[float]], limit: float,
             costs: dict[str, float], share: float, prior_slack: float,
             cut_share: float) -> tuple[set[str], set[str]]:
    """The configurations whose every fold finished uncut under ``limit``, and those whose
    every fold ran, cut or not."""
    from foldstack.selection._engine import FoldTask
    from foldstack.selection._schedule import TimeLimitedSchedule

    now = [0.0]
    tasks = [FoldTask(c, k, 0) for c in order for k in range(len(seconds[c]))]
    schedule = TimeLimitedSchedule(tasks, order, n_workers=WORKERS, deadline=limit,
                                   clock=lambda: now[0], costs=costs, share=share,
                                   prior_slack=prior_slack, cut_share=cut_share)
    running: list[tuple[float, int, _Done]] = []   # (end time, tie-break, record)
    folds_done: dict[str, int] = {}
    cut: set[str] = set()
    counter = 0
    free = WORKERS
    while True:
        while free:
            task = schedule.next_task()
            if task is None:
                break
            need = seconds[task.candidate][task.fold]
            # boosting and networks stop at their stop time; the others run to the end
            stopped = (task.stop_at is not None and now[0] + need > task.stop_at
                       and family[task.candidate] in STOPPABLE)
            end = task.stop_at if stopped else now[0] + need
            heapq.heappush(running, (end, counter, _Done(task.candidate, task.fold, stopped)))
            counter += 1
            free -= 1
        if not running:
            break
        end, _, record = heapq.heappop(running)
        now[0] = max(now[0], end)
        free += 1
        schedule.finished(record)
        if record.cut:
            cut.add(record.candidate)
        folds_done[record.candidate] = folds_done.get(record.candidate, 0) + 1
    ran = {c for c in order if folds_done.get(c, 0) == len(seconds[c])}
    return ran - cut, ran


def main() -> None:
    from bench._table import publish
    from foldstack.models._portfolio import cost_seconds

    data = json.loads(pf.PACKAGE_FILE.read_text())
    units = pf.unit_shapes(pf._units(list(pf.CONFIGS)))
    rows = []
    for set_name, g in units.groupby("set", sort=False):
        task = g["task"].iloc[0]
        order = [c["name"] for c in data["tasks"][task]["configs"]]
        g = g.set_index("config")
        if not set(order) <= set(g.index):
            continue
        seconds = {c: [float(g.loc[c, f"fit_s_{k}"]) for k in range(pf.N_FOLDS)]
                   for c in order}
        score = g["cv_score"].astype(float)
        higher = _suite.HIGHER_IS_BETTER[_suite.PRIMARY[task]]
        lo, hi = (score.min(), score.max()) if higher else (score.max(), score.min())
        coef = pf.cost_model(units[units["set"] != set_name])   # leave this set out
        mcells, outputs = float(g["mcells"].iloc[0]), float(g["outputs"].iloc[0])
        top = pf.cost_max_mcells(units[units["set"] != set_name])
        prior = {c: cost_seconds(coef[c], mcells, int(outputs), top) for c in order}
        everything = sum(sum(v) for v in seconds.values()) / WORKERS
        for fraction in FRACTIONS:
            for share, slack, cut_share in POLICIES:
                found, ran = simulate(order, seconds, fraction * everything,
                                      {} if slack is None else prior, share, slack or 1.0,
                                      cut_share)
                best = (max if higher else min)(score[c] for c in found)
                # upper bound: a cut configuration credited as if it had run to the end
                bound = (max if higher else min)(score[c] for c in ran)
                rows.append({"set": set_name, "task": task, "fraction": fraction,
                             "policy": f"share {share}" + ("" if slack is None
                                                              else f" + prior x{slack}")
                             + ("" if cut_share == 1.0 else f" + cut {cut_share}"),
                             "found": len(found),
                             "norm": (best - lo) / (hi - lo) if hi != lo else 1.0,
                             "norm_cut_credited": (bound - lo) / (hi - lo) if hi != lo
                             else 1.0})
    frame = pd.DataFrame(rows)
    frame["rank"] = frame.groupby(["set", "fraction"])["norm"].rank(ascending=False)
    stats = dict(mean_norm=("norm", "mean"), mean_rank=("rank", "mean"),
                 mean_norm_cut_credited=("norm_cut_credited", "mean"),
                 mean_found=("found", "mean"), sets=("set", "nunique"))
    summary = frame.groupby(["fraction", "policy"], sort=False).agg(**stats).reset_index()
    overall = frame.groupby("policy", sort=False).agg(**stats).reset_index()
    overall.insert(0, "fraction", "all")
    publish(pd.concat([summary, overall], ignore_index=True).round(4), "schedule_sim",
            "Simulated schedule on the portfolio units (2 workers; mean over suite sets)")
    per_set = frame.pivot_table(index=["set", "fraction"], columns="policy", values="norm")
    publish(per_set.round(3).reset_index(), "schedule_sim_sets",
            "Per set: normalised best CV score found")


if __name__ == "__main__":
    main()
