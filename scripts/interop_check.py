#!/usr/bin/env python3
"""Checks tokenpace against a real server with tools that share none of its
code: a recording proxy that keeps every byte each way, a parser of those
bytes written from the APIs' documents (not from tokenpace's parsers), and a
plain client that times the same requests on its own. Standard library
only, so it runs wherever Python does.

  interop_check.py proxy UPSTREAM_PORT LISTEN_PORT LOGDIR
      forward 127.0.0.1:LISTEN_PORT to 127.0.0.1:UPSTREAM_PORT, keeping
      each connection's bytes in LOGDIR (runs until killed)
  interop_check.py counts LOGDIR RUNDIR...
      every request tokenpace recorded in RUNDIR(s) against the server's own
      bytes: prompt, output and cached tokens and characters exactly equal,
      nothing recorded that was not sent, nothing sent that was not recorded
  interop_check.py ttft URL LOGDIR BODIES_RUNDIR TIMED_RUNDIR CONCURRENCY
      sends the bodies of BODIES_RUNDIR's requests (as the proxy saw them)
      straight to URL with CONCURRENCY streams, cold connections, and
      compares the time to first token with tokenpace's in TIMED_RUNDIR
      (the same prompts, measured without the proxy): the medians at one
      stream; at more, the fastest and the slowest are shown (the server's
      batching modes), and each request of BODIES_RUNDIR (sent through the
      proxy) must agree with the proxy's timing of it

Exit status 1 with a message naming each difference when a check fails.
"""

import asyncio
import bisect
import glob
import json
import os
import socket
import statistics
import struct
import sys
import time

# --- the proxy ---------------------------------------------------------------


# Each read is dated by the kernel's arrival stamp (SO_TIMESTAMPNS), as
# tokenpace dates its own: a proxy sharing two cores with vLLM can be
# scheduled tens of milliseconds after bytes arrive (a request of a cold
# burst read 27 ms late once in CI), and the reference must not move with it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
# Wall-clock stamps to monotonic time: the two clocks read back to back.
WALL_TO_MONOTONIC = time.time_ns() - time.monotonic_ns()


async def recv_stamped(loop, sock):
    """The next bytes on `sock` (b"" at its end) and when they arrived,
    monotonic ns (when the read returned, where the kernel gave no stamp)."""
    while True:
        try:
            data, ancillary, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(16))
        except (BlockingIOError, InterruptedError):
            ready = loop.create_future()
            loop.add_reader(sock.fileno(), lambda: ready.done() or ready.set_result(None))
            try:
                await ready
            finally:
                loop.remove_reader(sock.fileno())
            continue
        at = time.monotonic_ns()
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                sec, nsec = struct.unpack("qq", value[:16])
                at = min(at, sec * 1_000_000_000 + nsec - WALL_TO_MONOTONIC)
        return data, at


async def pump(loop, source, target, log, stamps):
    """Forwards socket `source` to socket `target`, keeping the bytes in
    `log` and, in `stamps`, when each read arrived: "monotonic_ns offset"
    per read."""
    offset = 0
    try:
        while True:
            data, at = await recv_stamped(loop, source)
            if not data:
                break
            stamps.write(f"{at} {offset}\n")
            stamps.flush()
            offset += len(data)
            log.write(data)
            log.flush()
            await loop.sock_sendall(target, data)
    except (ConnectionError, OSError, asyncio.CancelledError):
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def stamped(sock):
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


async def proxy(upstream_port, listen_port, logdir):
    os.makedirs(logdir, exist_ok=True)
    loop = asyncio.get_running_loop()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # On the listener first, so that segments are stamped from the start.
    listener.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(1024)
    listener.setblocking(False)
    counter = {"n": 0}

    async def handle(client):
        counter["n"] += 1
        n = counter["n"]
        base = os.path.join(logdir, f"{n:06d}")
        upstream = stamped(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        try:
            # The upstream connection opens while the request's first bytes
            # wait in the client's socket, dated by their arrival.
            await loop.sock_connect(upstream, ("127.0.0.1", upstream_port))
            with open(base + ".up", "wb") as up_log, open(base + ".down", "wb") as down_log, open(
                base + ".up.t", "w"
            ) as up_t, open(base + ".down.t", "w") as down_t:
                await asyncio.gather(
                    pump(loop, client, upstream, up_log, up_t),
                    pump(loop, upstream, client, down_log, down_t),
                )
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()

    tasks = set()
    while True:
        client, _ = await loop.sock_accept(listener)
        task = asyncio.ensure_future(handle(stamped(client)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


# --- HTTP/1.1 from the logged bytes -----------------------------------------


def split_head(data, at):
    end = data.find(b"\r\n\r\n", at)
    if end < 0:
        return None
    lines = data[at:end].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, end + 4


def dechunk(data, at):
    """The body of a chunked message from `at`, and where the message ends."""
    body = bytearray()
    while True:
        eol = data.find(b"\r\n", at)
        if eol < 0:
            return bytes(body), len(data)
        size = int(data[at:eol].split(b";")[0], 16)
        at = eol + 2
        if size == 0:
            end = data.find(b"\r\n", at)
            return bytes(body), (len(data) if end < 0 else end + 2)
        body += data[at : at + size]
        at += size + 2


def messages(data, is_response, spans=None):
    """The messages in `data` as (start line, headers, body); with `spans`
    a list, each one's raw (first byte, end of head, end) is appended too."""
    out, at = [], 0
    while at < len(data):
        first = at
        head = split_head(data, at)
        if head is None:
            break
        start, headers, at = head
        head_end = at
        if "content-length" in headers:
            n = int(headers["content-length"])
            body, at = data[at : at + n], at + n
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body, at = dechunk(data, at)
        elif is_response:
            body, at = data[at:], len(data)
        else:
            body = b""
        out.append((start, headers, body))
        if spans is not None:
            spans.append((first, head_end, at))
    return out


def exchanges(logdir):
    """(method, path, request headers, request body, status, response body)
    of every request the proxy carried, in order per connection."""
    out = []
    for up in sorted(glob.glob(os.path.join(logdir, "*.up"))):
        with open(up, "rb") as f:
            requests = messages(f.read(), False)
        with open(up[:-3] + ".down", "rb") as f:
            responses = messages(f.read(), True)
        for i, (start, headers, body) in enumerate(requests):
            method, path = start.split(" ")[:2]
            status, rbody = None, b""
            if i < len(responses):
                status = int(responses[i][0].split(" ")[1])
                rbody = responses[i][2]
            out.append((method, path, headers, body, status, rbody))
    return out


# --- what the server said, read from its bytes ------------------------------


def sse_data(body):
    """The data of each server-sent event, joined over its data lines."""
    events = []
    for block in body.decode("utf-8").replace("\r\n", "\n").split("\n\n"):
        data = [l[5:].lstrip(" ") if l.startswith("data:") else None for l in block.split("\n")]
        data = [d for d in data if d is not None]
        if data:
            events.append("\n".join(data))
    return events


def said(path, body):
    """What a streamed response said: prompt, output and cached tokens, the
    visible text and the tool calls, as the API's documents define them."""
    text, calls = [], set()
    prompt = output = cached = None
    for data in sse_data(body):
        if data.strip() == "[DONE]":
            continue
        e = json.loads(data)
        if path.endswith("/chat/completions") or path.endswith("/completions"):
            for choice in (e.get("choices") or [])[:1]:
                delta = choice.get("delta") or {}
                text.append(delta.get("content") or choice.get("text") or "")
                for call in delta.get("tool_calls") or []:
                    if call.get("id"):
                        calls.add(call["id"])
            usage = e.get("usage")
            if usage:
                prompt, output = usage.get("prompt_tokens"), usage.get("completion_tokens")
                cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        elif path.endswith("/responses"):
            kind = e.get("type")
            if kind == "response.output_text.delta":
                text.append(e.get("delta", ""))
            elif kind == "response.output_item.added" and e["item"].get("type") == "function_call":
                calls.add(e["item"].get("call_id"))
            elif kind in ("response.completed", "response.incomplete"):
                usage = e["response"].get("usage") or {}
                prompt, output = usage.get("input_tokens"), usage.get("output_tokens")
                cached = (usage.get("input_tokens_details") or {}).get("cached_tokens")
        elif path.endswith("/messages"):
            kind = e.get("type")
            if kind == "content_block_delta" and e["delta"].get("type") == "text_delta":
                text.append(e["delta"].get("text", ""))
            elif kind == "content_block_start" and e["content_block"].get("type") == "tool_use":
                calls.add(e["content_block"].get("id"))
            usage = e.get("usage") or (e.get("message") or {}).get("usage")
            if usage:
                # input_tokens excludes the tokens read from and written to
                # the cache (Anthropic's definition, and vLLM's).
                parts = [usage.get(k) for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")]
                if parts[0] is not None:
                    prompt = sum(p or 0 for p in parts)
                if "output_tokens" in usage:
                    output = usage["output_tokens"]
                if "cache_read_input_tokens" in usage:
                    cached = usage["cache_read_input_tokens"]
    return {"prompt": prompt, "output": output, "cached": cached, "text": "".join(text), "calls": len(calls)}


def records(rundir):
    out = []
    for path in sorted(glob.glob(os.path.join(rundir, "**", "requests.jsonl"), recursive=True)):
        with open(path) as f:
            out += [json.loads(line) for line in f if line.strip()]
    return out


def count(record, key):
    value = record.get(key)
    return value["count"] if isinstance(value, dict) else value


def check_counts(logdir, rundirs):
    sent = {}
    for method, path, headers, body, status, rbody in exchanges(logdir):
        rid = headers.get("x-request-id")
        if method == "POST" and rid:
            sent[rid] = (path, status, rbody)
    problems, matched, tokens, cached, calls = [], 0, 0, 0, 0
    recorded = set()
    for rundir in rundirs:
        for r in records(rundir):
            rid = r.get("request_id")
            if rid not in sent:
                problems.append(f"{rundir}: record {r['id']} ({rid}) was never sent through the proxy")
                continue
            recorded.add(rid)
            path, status, rbody = sent[rid]
            if r.get("error"):
                if status == 200 and said(path, rbody)["text"]:
                    problems.append(f"{rid}: recorded as {r['error']['kind']} but the server answered 200 with text")
                continue
            s = said(path, rbody)
            want = {
                "prompt_tokens": s["prompt"],
                "output_tokens": s["output"],
                "cached_tokens": s["cached"],
                "output_chars": len(s["text"]),
                "tool_calls": s["calls"],
            }
            got = {k: count(r, k) or 0 for k in want}
            want = {k: v or 0 for k, v in want.items()}
            if got != want:
                problems.append(f"{rid} ({path}): recorded {got}, the server said {want}")
            matched += 1
            tokens += want["output_tokens"]
            cached += want["cached_tokens"]
            calls += want["tool_calls"]
    for rid, (path, status, _) in sent.items():
        if rid not in recorded:
            problems.append(f"{rid} ({path}, HTTP {status}) was sent but has no record")
    # A check that compared only zeros would prove nothing.
    if min(matched, tokens, cached, calls) == 0:
        problems.append(f"nothing to compare: {matched} answers, {tokens} output tokens, {cached} cached tokens, {calls} tool calls")
    print(f"counts: {matched} answered requests in {len(rundirs)} runs ({tokens} output tokens, {cached} "
          f"cached prompt tokens, {calls} tool calls): prompt, output and cached tokens, characters "
          f"and tool calls equal to the server's bytes"
          if not problems else f"counts: {len(problems)} differences")
    for p in problems[:40]:
        print("  " + p)
    return not problems


# --- a plain client ----------------------------------------------------------


async def timed(port, path, body, headers):
    """Seconds from opening a connection to the first event with text."""
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
    for name in ("anthropic-version", "authorization", "x-api-key"):
        if name in headers:
            head += f"{name}: {headers[name]}\r\n"
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()
    buf = b""
    first = None
    while True:
        data = await reader.read(65536)
        if not data:
            break
        buf += data
        if first is None and any(carries_token(path, e) for e in complete_events(buf)):
            first = time.perf_counter() - start
    writer.close()
    return first


def complete_events(buf):
    """The events a response's bytes so far complete (headers and chunked
    framing stripped; an event is complete at its blank line)."""
    head = split_head(buf, 0)
    if head is None:
        return []
    _, headers, at = head
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, _ = dechunk(buf, at)
    else:
        body = buf[at:]
    text = body.decode("utf-8", "replace").replace("\r\n", "\n")
    return sse_data(text[: text.rfind("\n\n") + 2].encode()) if "\n\n" in text else []


def carries_token(path, data):
    """Whether an event carries a generated token: text, reasoning or a
    piece of a tool call."""
    if data.strip() == "[DONE]":
        return False
    e = json.loads(data)
    if path.endswith("/responses"):
        kind = e.get("type", "")
        if kind == "response.output_item.added":
            return e.get("item", {}).get("type") == "function_call"
        return kind.endswith(".delta") and bool(e.get("delta"))
    if path.endswith("/messages"):
        if e.get("type") == "content_block_start":
            return e["content_block"].get("type") == "tool_use"
        d = e.get("delta") or {}
        return e.get("type") == "content_block_delta" and any(d.get(k) for k in ("text", "thinking", "partial_json"))
    choice = (e.get("choices") or [{}])[0] or {}
    d = choice.get("delta") or {}
    return any(d.get(k) for k in ("content", "reasoning_content", "reasoning", "tool_calls")) or bool(choice.get("text"))


async def plain(port, bodies, concurrency):
    queue = list(bodies)
    ttfts = []

    async def stream():
        while queue:
            path, headers, body = queue.pop(0)
            t = await timed(port, path, body, headers)
            if t is not None:
                ttfts.append(t)

    await asyncio.gather(*(stream() for _ in range(concurrency)))
    return ttfts


def ttft_of(record):
    firsts = [c[0]["at_ns"] for c in (record.get("chunks"), record.get("reasoning_chunks"), record.get("tool_chunks")) if c]
    return (min(firsts) - record["sent_ns"]) / 1e9 if firsts else None


def read_times(path):
    """(offset, monotonic_ns) of each read the proxy made, in order."""
    with open(path) as f:
        return [(int(off), int(t)) for t, off in (line.split() for line in f if line.strip())]


def time_at(reads, offset):
    """When the byte at `offset` reached the proxy: the read that held it."""
    i = bisect.bisect_right([o for o, _ in reads], offset) - 1
    return reads[i][1] if i >= 0 else None


def body_offsets(data, head_end, end):
    """The body of the response whose head ends at `head_end` (chunked or
    not), and a list of (body offset, raw offset) where each piece starts,
    to find in the raw bytes (and so in time) where a body byte arrived."""
    if b"transfer-encoding: chunked" not in data[:head_end].lower():
        return data[head_end:end], [(0, head_end)]
    body, pieces, at = bytearray(), [], head_end
    while at < end:
        eol = data.find(b"\r\n", at)
        if eol < 0:
            break
        size = int(data[at:eol].split(b";")[0], 16)
        if size == 0:
            break
        pieces.append((len(body), eol + 2))
        body += data[eol + 2 : eol + 2 + size]
        at = eol + 2 + size + 2
    return bytes(body), pieces


def visible(event):
    """Whether an OpenAI-style stream event carries text a reader sees (or
    a tool call): what tokenpace times as the first token."""
    try:
        choice = (json.loads(event).get("choices") or [{}])[0]
    except (ValueError, AttributeError):
        return False
    delta = choice.get("delta") or {}
    return bool(
        choice.get("text") or delta.get("content") or delta.get("reasoning_content")
        or delta.get("reasoning") or delta.get("tool_calls")
    )


def proxy_ttfts(logdir):
    """x-request-id → seconds from the request's first byte reaching the
    proxy to the first byte of the answer's first visible event reaching
    it: the time to first token as a third party on the wire saw it."""
    out = {}
    for up in sorted(glob.glob(os.path.join(logdir, "*.up"))):
        down = up[:-3] + ".down"
        if not (os.path.exists(up + ".t") and os.path.exists(down + ".t")):
            continue
        with open(up, "rb") as f:
            raw_up = f.read()
        with open(down, "rb") as f:
            raw_down = f.read()
        up_spans, down_spans = [], []
        requests = messages(raw_up, False, up_spans)
        messages(raw_down, True, down_spans)
        up_t, down_t = read_times(up + ".t"), read_times(down + ".t")
        for i, (_, headers, _) in enumerate(requests):
            rid = headers.get("x-request-id")
            if rid is None or i >= len(down_spans):
                continue
            body, pieces = body_offsets(raw_down, down_spans[i][1], down_spans[i][2])
            at, first = 0, None
            for block in body.split(b"\n\n"):
                text = block.decode("utf-8", "replace").replace("\r", "")
                data = "\n".join(l[5:].lstrip(" ") for l in text.split("\n") if l.startswith("data:"))
                if data and visible(data):
                    first = at
                    break
                at += len(block) + 2
            if first is None:
                continue
            k = bisect.bisect_right([b for b, _ in pieces], first) - 1
            raw = pieces[k][1] + (first - pieces[k][0])
            t0, t1 = time_at(up_t, up_spans[i][0]), time_at(down_t, raw)
            if t0 is not None and t1 is not None:
                out[rid] = (t1 - t0) / 1e9
    return out


# tokenpace's TTFT (through the proxy) less the proxy's own: the two extra
# loopback hops and the proxy forwarding the answer, never negative beyond
# the proxy's clock reading, never more than a Python proxy's scheduling.
PROXY_TTFT_MS = (-2.0, 20.0)


def check_proxy_ttft(logdir, rundir):
    """Each request of RUNDIR (sent through the proxy) against the proxy's
    timing of the same request: per request, so the server's batching,
    which decides each TTFT, is the same for both."""
    theirs = proxy_ttfts(logdir)
    diffs = []
    for r in records(rundir):
        ours = ttft_of(r)
        if ours is not None and r.get("request_id") in theirs:
            diffs.append((ours - theirs[r["request_id"]]) * 1e3)
    lo, hi = PROXY_TTFT_MS
    ok = bool(diffs) and all(lo <= d <= hi for d in diffs)
    shown = f"median {statistics.median(diffs):+.2f} ms, from {min(diffs):+.2f} to {max(diffs):+.2f} ms" if diffs else "none matched"
    print(f"ttft of {len(diffs)} requests against the proxy's timing of each: tokenpace − proxy {shown} "
          f"(allowed {lo:+.0f} to {hi:+.0f} ms){'' if ok else ' — TOO FAR APART'}")
    return ok


def check_ttft(url, logdir, bodies_rundir, timed_rundir, concurrency):
    port = int(url.rsplit(":", 1)[1].strip("/"))
    sent = {h.get("x-request-id"): (p, h, b) for m, p, h, b, _, _ in exchanges(logdir) if m == "POST"}
    ordered = sorted(records(bodies_rundir), key=lambda r: r["id"])
    bodies = [sent[r["request_id"]] for r in ordered if r.get("request_id") in sent]
    ours = [t for t in map(ttft_of, records(timed_rundir)) if t is not None]
    theirs = asyncio.run(plain(port, bodies, concurrency))
    if len(theirs) < len(bodies) or not ours:
        print(f"ttft: the plain client got {len(theirs)} of {len(bodies)} answers, tokenpace {len(ours)}")
        return False
    # Within noise: the same requests on the same server a minute apart.
    close = lambda a, b: abs(a - b) <= max(0.15 * b, 0.05)
    a, b = statistics.median(ours), statistics.median(theirs)
    if concurrency == 1:
        ok = close(a, b)
        print(f"ttft at 1 stream, {len(bodies)} requests: tokenpace median {a:.3f} s, plain client {b:.3f} s "
              f"(difference {a - b:+.3f} s){'' if ok else ' — TOO FAR APART'}")
        return ok
    # Several streams: vLLM prefills the first request of a burst alone and
    # the others together, so TTFT has two modes (0.56 s and 2.2 s here),
    # and how many requests fall in each depends on when each arrived
    # against the engine's step, which neither client controls; a median
    # flips between the modes. Each mode must be timed alike: the fastest
    # and the slowest of each client agree.
    # Which requests land in which mode can differ between two runs (in one
    # CI run no request of tokenpace's was prefilled alone: fastest 1.05 s
    # against the plain client's 0.53 s), so this comparison is shown, and
    # the gate is the proxy's timing of each request (check_proxy_ttft).
    pairs = [("fastest", min(ours), min(theirs)), ("slowest", max(ours), max(theirs))]
    agree = all(close(x, y) for _, x, y in pairs)
    shown = ", ".join(f"{n} {x:.3f} s against {y:.3f} s" for n, x, y in pairs)
    print(f"ttft at {concurrency} streams, {len(bodies)} requests: tokenpace against a plain client, {shown} "
          f"(medians {a:.3f} / {b:.3f} s){'' if agree else ' — the runs fell in different modes'}")
    return True


def main(argv):
    if len(argv) >= 4 and argv[0] == "proxy":
        asyncio.run(proxy(int(argv[1]), int(argv[2]), argv[3]))
        return 0
    if len(argv) >= 3 and argv[0] == "counts":
        return 0 if check_counts(argv[1], argv[2:]) else 1
    if len(argv) == 6 and argv[0] == "ttft":
        plain_ok = check_ttft(argv[1], argv[2], argv[3], argv[4], int(argv[5]))
        return 0 if check_proxy_ttft(argv[2], argv[3]) and plain_ok else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
