"""Python `websockets` (Debian's python3-websockets) as an interoperability client for Echo.

Reads one JSON request on stdin: {"url", "compression": bool, "fragments": int, "messages": [...]}
where each message is {"type": "text", "data": str} or {"type": "binary", "base64": str}.
Sends every message (in `fragments` frames when > 1, via an iterable), reads as many echoes,
closes with 1000, and prints {"extensions": str, "received": [...]} in the same encoding.
"""
import asyncio
import base64
import json
import sys

import websockets


def split(data, parts):
    size = max(1, -(-len(data) // parts))
    return [data[i:i + size] for i in range(0, len(data), size)]


async def main():
    request = json.load(sys.stdin)
    async with websockets.connect(
        request["url"],
        compression="deflate" if request["compression"] else None,
        max_size=None,
        ping_interval=None,
    ) as ws:
        extensions = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        for message in request["messages"]:
            data = message["data"] if message["type"] == "text" else base64.b64decode(message["base64"])
            if request["fragments"] > 1 and len(data) > 0:
                await ws.send(split(data, request["fragments"]))
            else:
                await ws.send(data)
        received = []
        for _ in request["messages"]:
            echo = await asyncio.wait_for(ws.recv(), timeout=15)
            if isinstance(echo, str):
                received.append({"type": "text", "data": echo})
            else:
                received.append({"type": "binary", "base64": base64.b64encode(echo).decode()})
        await ws.close(1000)
    json.dump({"extensions": extensions, "received": received}, sys.stdout)


asyncio.run(main())
