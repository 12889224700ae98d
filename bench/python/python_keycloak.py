"""python-keycloak (its async API) as a contender of `cargo xtask bench`.

Usage: python python_keycloak.py <create|list|stampede> URL REALM N CONCURRENCY
`stampede`: N is the realm's token lifespan (see bench/rust/src/main.rs).
Prints {"seconds": <time of the op after login>, "count": <users created or listed>,
"cpu_seconds": <user+sys CPU of this process during the op (getrusage)>}.
`get`: GET the first user of REALM N times (its id read before the clock).
`list` is a_get_users({}) with no first/max, which python-keycloak pages through to the end;
CONCURRENCY such listings run at once.
"""

import asyncio
import json
import os
import resource
import sys
import time


def cpu() -> float:
    """User + system CPU time of this process so far, seconds."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection


async def stampede(url: str, realm: str, lifespan: int, c: int) -> None:
    """Log in to REALM as its stamp-admin, one call, sleep past the token's expiry, C calls at once."""
    conn = KeycloakOpenIDConnection(
        server_url=url,
        username="stamp-admin",
        password="stamp-admin-password",
        realm_name=realm,
        user_realm_name=realm,
        client_id="admin-cli",
        verify=True,
    )
    await conn.a_get_token()
    kc = KeycloakAdmin(connection=conn)
    await kc.a_get_users({"max": 1})
    await asyncio.sleep(lifespan + 1)
    started = time.perf_counter()

    async def one() -> bool:
        try:
            await kc.a_get_users({"max": 1})
            return True
        except Exception:  # noqa: BLE001 - counted as a failed call
            return False

    ok = sum(await asyncio.gather(*(one() for _ in range(c))))
    print(json.dumps({"seconds": time.perf_counter() - started, "count": ok}))


async def main() -> None:
    op, url, realm, n, c = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    if op == "stampede":
        await stampede(url, realm, n, c)
        return
    conn = KeycloakOpenIDConnection(
        server_url=url,
        username=os.environ.get("BENCH_ADMIN_USER", "admin"),
        password=os.environ.get("BENCH_ADMIN_PASSWORD", "admin"),
        realm_name=realm,
        user_realm_name="master",
        client_id="admin-cli",
        verify=True,
    )
    await conn.a_get_token()  # log in before the clock starts
    kc = KeycloakAdmin(connection=conn)
    ids = []
    if op in ("getput", "get"):
        # ids read before the clock, like every contender.
        first = await kc.a_get_users({"first": 0, "max": 1 if op == "get" else n, "briefRepresentation": True})
        ids = [u["id"] for u in first]
    started = time.perf_counter()
    cpu_started = cpu()
    if op == "get":
        sem = asyncio.Semaphore(c)

        async def get_one(_: int) -> None:
            async with sem:
                await kc.a_get_user(ids[0])

        await asyncio.gather(*(get_one(i) for i in range(n)))
        count = n
    elif op == "create":
        sem = asyncio.Semaphore(c)

        async def one(i: int) -> str:
            async with sem:
                return await kc.a_create_user(
                    {
                        "username": f"user-{i}",
                        "enabled": True,
                        "email": f"user-{i}@example.com",
                        "firstName": "Bench",
                        "lastName": f"User{i}",
                    }
                )

        count = len(await asyncio.gather(*(one(i) for i in range(n))))
    elif op == "getput":
        sem = asyncio.Semaphore(c)

        async def getput(uid: str) -> None:
            async with sem:
                user = await kc.a_get_user(uid)
                user["firstName"] = f"Put{int(time.perf_counter() * 1e6) % 1000}"
                await kc.a_update_user(uid, user)

        await asyncio.gather(*(getput(i) for i in ids))
        count = len(ids)
    elif op == "list":
        # c listings of the whole realm at once (each pages through it on its own).
        lists = await asyncio.gather(*(kc.a_get_users({}) for _ in range(c)))
        count = sum(len(users) for users in lists)
    else:
        raise SystemExit(f"unknown op {op}")
    seconds = time.perf_counter() - started
    cpu_seconds = cpu() - cpu_started
    # Peak resident set size of this process, KiB (ru_maxrss is KiB on Linux).
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "count": count, "peak_rss_kib": rss, "cpu_seconds": cpu_seconds}))


asyncio.run(main())
