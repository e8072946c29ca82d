"""A local round-robin reverse proxy: what nginx or Caddy in front of several workers does.

Each request goes to the next upstream in turn. An upstream that refuses the connection (a dead
worker) is skipped and the next one tried, like nginx's ``proxy_next_upstream error``; a worker
that dies after it got the request is NOT retried (a POST is not idempotent, nginx does not
either): the client gets 502 and, for Telegram, delivers the update again later.

    async with RoundRobinProxy(["http://127.0.0.1:8081", "http://127.0.0.1:8082"]) as proxy:
        proxy.url  # give this to the platform as the webhook's host
"""

from __future__ import annotations

from collections import Counter

from aiohttp import ClientConnectorError, ClientError, ClientSession, ClientTimeout, web

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "host", "content-length"})
UPSTREAM_TIMEOUT_SECONDS = 30.0


class RoundRobinProxy:
    def __init__(self, upstreams: list[str], host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstreams = upstreams
        self.host, self.port = host, port
        self.served: Counter[str] = Counter()  # upstream -> requests it answered
        self.refused: Counter[str] = Counter()  # upstream -> connections it refused
        self.broken = 0  # requests lost with their upstream (answered 502)
        self._next = 0
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._client = ClientSession(timeout=ClientTimeout(total=UPSTREAM_TIMEOUT_SECONDS))
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    async def __aenter__(self) -> RoundRobinProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        for _ in range(len(self.upstreams)):
            upstream = self.upstreams[self._next % len(self.upstreams)]
            self._next += 1
            try:
                async with self._client.request(
                    request.method, upstream + request.rel_url.path_qs, data=body, headers=headers
                ) as resp:
                    payload = await resp.read()
                    self.served[upstream] += 1
                    return web.Response(status=resp.status, body=payload,
                                        content_type=resp.content_type)
            except ClientConnectorError:
                self.refused[upstream] += 1  # nothing was sent: try the next worker
            except (ClientError, TimeoutError):
                self.broken += 1
                return web.Response(status=502, text="upstream went away")
        return web.Response(status=502, text="no upstream answers")
