"""Benchmark: what one API request costs the API itself — database round trips and CPU — per
route of `bench/api_load.py`'s read mix, in-process (ASGI, no network, no Temporal: the job
read's describe answers at once with nothing to describe).

Counted per request: pool checkouts (each a pre-ping round trip), transactions (BEGIN … and
ROLLBACK/COMMIT), statements. These are exact on any machine, unlike latency on a shared one;
CPU per request (the minimum over `--rounds`, in-process client included) is printed against
`/healthz` in the same run.
Usage: .venv/bin/python bench/api_cost.py [--requests 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def main(args: argparse.Namespace) -> None:
    from sqlalchemy import event

    from flightdeck.api.app import create_app
    from flightdeck.api.routes.campaign_plans import naming_convention
    from flightdeck.db.engine import create_engine, create_sessionmaker
    from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
    from flightdeck.db.repositories.campaign_requests import CampaignRequestRepository
    from flightdeck.db.repositories.jobs import JobRepository
    from flightdeck.db.tenancy import system_session
    from flightdeck.db.tenants import create_tenant_with_key
    from flightdeck.domain.naming import generate_names
    from flightdeck.domain.plans import CampaignPlanIn
    from flightdeck.settings import Settings
    from tests.db.support import migrated_database
    from tests.e2e.conftest import big_plan

    async with migrated_database() as url:
        settings = Settings(environment="test", database_url=url)
        engine = create_engine(url)
        sessions = create_sessionmaker(engine)
        counts: Counter[str] = Counter()
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", lambda *_, **__: counts.update(["stmt"]))
        event.listen(sync_engine.pool, "checkout", lambda *_: counts.update(["checkout"]))
        event.listen(sync_engine, "begin", lambda *_: counts.update(["begin"]))
        event.listen(sync_engine, "commit", lambda *_: counts.update(["commit"]))
        event.listen(sync_engine, "rollback", lambda *_: counts.update(["rollback"]))
        app = create_app(settings, sessions=sessions, temporal=None)
        name = f"cost-{uuid.uuid4().hex[:6]}"
        async with system_session(sessions, "cli") as session:
            tenant, key = await create_tenant_with_key(session, name)
        plan_in = CampaignPlanIn.model_validate(big_plan(5, 4) | {"requestId": "cost-1"})
        async with system_session(sessions, "cli") as session:
            workflow_id = f"publish-{tenant.id}-cost-1"
            plan = await CampaignPlanRepository(session).create(
                tenant.id,
                plan_in,
                generate_names(plan_in, naming_convention(settings)),
                workflow_id,
            )
            await CampaignRequestRepository(session).create(
                tenant.id, "cost-1", plan.id, workflow_id
            )
            await JobRepository(session).record(tenant.id, workflow_id, "plan_publish", plan.id)
            await session.commit()
        kinds = {
            "healthz": "/healthz",
            "plan": f"/api/v1/campaign-plans/{plan.id}",
            "mapping": f"/api/v1/campaign-plans/{plan.id}/mapping",
            "job": f"/api/v1/jobs/{workflow_id}",
            "plans": "/api/v1/campaign-plans?limit=20",
            "sets": "/api/v1/campaign-sets?limit=20",
        }
        headers = {"Authorization": f"Bearer {key}"}
        transport = httpx.ASGITransport(app=app)
        print(
            f"per request, in-process; load average {os.getloadavg()[0]:.2f} "
            f"({os.cpu_count()} cores)"
        )
        print(
            f"  {'kind':<8} {'checkouts':>9} {'begins':>6} {'stmts':>5} {'ends':>4} "
            f"{'round trips':>11} {'CPU ms':>7} {'× healthz':>9}"
        )
        anchor = None
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api", headers=headers
        ) as api:
            for kind, path in kinds.items():
                first = await api.get(path)
                assert first.status_code == 200, (kind, first.status_code, first.text[:200])
                cpu: list[float] = []
                for _ in range(args.rounds):
                    counts.clear()
                    started = time.process_time()
                    for _ in range(args.requests):
                        await api.get(path)
                    cpu.append((time.process_time() - started) / args.requests * 1000)
                per = {k: v / args.requests for k, v in counts.items()}
                ends = per.get("commit", 0) + per.get("rollback", 0)
                trips = per.get("checkout", 0) + per.get("begin", 0) + per.get("stmt", 0) + ends
                best = min(cpu)
                anchor = anchor or best
                print(
                    f"  {kind:<8} {per.get('checkout', 0):>9g} {per.get('begin', 0):>6g} "
                    f"{per.get('stmt', 0):>5g} {ends:>4g} {trips:>11g} {best:>7.2f} "
                    f"{best / anchor:>9.1f}"
                )
        await engine.dispose()


if __name__ == "__main__":
    from flightdeck import event_loop

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    event_loop.run(main(parser.parse_args()))
