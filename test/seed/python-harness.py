"""Runs the seed's Python client, unchanged, against a Streamgate URL and prints what it saw as JSON.

argv: <file with the seed's Python code> <ws url>
The seed's own `main()` targets ws://localhost:8080/ws; this drives its class the same way, with our URL.
"""
import asyncio
import json
import logging
import sys

code = open(sys.argv[1], encoding="utf-8").read()
namespace = {"__name__": "seed_client"}
exec(compile(code, "seed_client.py", "exec"), namespace)
Client = namespace["WebRTCSignalingClient"]
url = sys.argv[2]

seen = {"errors": [], "offers": [], "stats": [], "log": []}


class Capture(logging.Handler):
    def emit(self, record):
        seen["log"].append(record.getMessage())


async def wait_for(predicate, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def main():
    logging.getLogger("seed_client").addHandler(Capture())
    client = Client(
        url,
        peer_id=12345,
        on_offer=lambda offer: seen["offers"].append(offer),
        on_stats=lambda stats: seen["stats"].append(stats),
        on_error=lambda error: seen["errors"].append(str(error)),
    )
    await client.connect_with_retry()
    seen["welcomed"] = await wait_for(lambda: any("Welcome" in m for m in seen["log"]))
    seen["heartbeat_interval_s"] = client.heartbeat_interval
    await client.send_ping()
    seen["ponged"] = await wait_for(lambda: any("Pong received" in m for m in seen["log"]))
    await client.request_stats()
    await wait_for(lambda: seen["stats"])
    await client.request_offer()
    await wait_for(lambda: seen["offers"] or seen["errors"], timeout=20)
    await client.send_message({"type": "no-such-type", "peer_id": "12345", "data": {}})
    await wait_for(lambda: len(seen["errors"]) >= (1 if seen["offers"] else 2))
    seen["still_connected"] = client.is_connected
    await client.disconnect()
    print(json.dumps(seen, default=str))


asyncio.run(main())
