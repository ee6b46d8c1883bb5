#!/usr/bin/env python3
"""The official SDKs as clients of a tokenpace server (`tokenpace sim` or
`tokenpace serve`): the `openai` SDK (chat and completions, streamed and
not; a streamed tool call under tool_choice; Responses, streamed and not)
and the `anthropic` SDK (messages.stream, messages.create, tool use). Each
call must parse in the SDK and be sane: text not empty, usage present and
positive, stream events in their order, tool-call arguments JSON.

    sdk_check.py BASE_URL [--serve]

BASE_URL is the server's root (http://127.0.0.1:PORT). --serve adds what
only `tokenpace serve` promises: requests for what it cannot do refused
with a 400 naming the field; and where its small model answers a demanded
tool call in text, the answer must say so (finish reason stop, not
tool_calls), which is reported, not failed. Prints one line per check and
ends with 'sdk_check: N passed, N failed'; exits 1 on any failure.
"""

import argparse
import json
import sys
import traceback

import anthropic
import openai

MAX_TOKENS = 24
TOOL = {
    "name": "search",
    "description": "Search the knowledge base and return the most relevant passages.",
    "parameters": {
        "type": "object",
        "properties": {"query": {"type": "string", "description": "What to look for."}},
        "required": ["query"],
    },
}
ASK = "Say hello in five words."
# Greedy sampling on serve, so a run is repeatable (the simulator ignores
# it); this anthropic SDK takes no `temperature`, so it goes in the body.
GREEDY = {"temperature": 0}
TOOL_ASK = "Search the knowledge base for the capital of France."


class Failed(Exception):
    """A check's finding."""


def expect(cond, what):
    if not cond:
        raise Failed(what)


def positive_usage(prompt, completion, where):
    expect(isinstance(prompt, int) and prompt > 0, f"{where}: prompt tokens {prompt!r}, want > 0")
    expect(
        isinstance(completion, int) and completion > 0,
        f"{where}: completion tokens {completion!r}, want > 0",
    )


def prompt_of(usage):
    """An Anthropic usage's prompt: input tokens and those read from or
    written to the cache."""
    cached = (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)
    return usage.input_tokens + cached


def json_object(text, where):
    try:
        value = json.loads(text)
    except ValueError as e:
        raise Failed(f"{where}: arguments are not JSON ({e}): {text!r}")
    expect(isinstance(value, dict), f"{where}: arguments are not a JSON object: {text!r}")
    return value


class Checks:
    def __init__(self, base, serve):
        self.serve = serve
        self.notes = []
        self.oa = openai.OpenAI(base_url=f"{base}/v1", api_key="tokenpace", max_retries=0, timeout=120)
        self.an = anthropic.Anthropic(base_url=base, api_key="tokenpace", max_retries=0, timeout=120)
        models = self.oa.models.list().data
        expect(models and models[0].id, "GET /v1/models listed no model")
        self.model = models[0].id
        # Greedy on serve, so a run is repeatable; the simulator ignores it.
        self.sampling = {"temperature": 0, "seed": 7}

    def no_call(self, where, text):
        """A demanded call the model did not make: failed on the simulator
        (which always makes one), reported on serve."""
        expect(self.serve, f"{where}: no tool call although tool_choice demanded one")
        expect(text.strip(), f"{where}: neither a tool call nor text")
        self.notes.append(f"{where}: the model made no tool call (answered in text: {text[:60]!r})")

    # OpenAI chat and completions.

    def chat(self):
        r = self.oa.chat.completions.create(
            model=self.model,
            messages=[{"role": "user", "content": ASK}],
            max_tokens=MAX_TOKENS,
            **self.sampling,
        )
        c = r.choices[0]
        expect(c.message.role == "assistant", f"role {c.message.role!r}")
        expect(c.message.content and c.message.content.strip(), "empty content")
        expect(c.finish_reason in ("stop", "length"), f"finish_reason {c.finish_reason!r}")
        positive_usage(r.usage.prompt_tokens, r.usage.completion_tokens, "usage")
        expect(r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, "total_tokens")
        return f"{r.usage.completion_tokens} tokens, {c.finish_reason}"

    def chat_stream(self):
        stream = self.oa.chat.completions.create(
            model=self.model,
            messages=[{"role": "user", "content": ASK}],
            max_tokens=MAX_TOKENS,
            stream=True,
            stream_options={"include_usage": True},
            **self.sampling,
        )
        text, finish, usage, after_usage = "", None, None, 0
        for i, chunk in enumerate(stream):
            if usage is not None:
                after_usage += 1
            if chunk.usage is not None:
                usage = chunk.usage
            for ch in chunk.choices:
                if i == 0:
                    expect(ch.delta.role == "assistant", "the first chunk names no assistant role")
                expect(finish is None, "a chunk after the finish reason")
                text += ch.delta.content or ""
                finish = ch.finish_reason or finish
        expect(text.strip(), "no streamed text")
        expect(finish in ("stop", "length"), f"finish_reason {finish!r}")
        expect(usage is not None, "no usage chunk with include_usage")
        expect(after_usage == 0, "chunks after the usage chunk")
        positive_usage(usage.prompt_tokens, usage.completion_tokens, "usage")
        return f"{len(text)} chars, {usage.completion_tokens} tokens"

    def completions(self):
        r = self.oa.completions.create(
            model=self.model, prompt="Once upon a time", max_tokens=MAX_TOKENS, **self.sampling
        )
        expect(r.choices[0].text.strip(), "empty text")
        positive_usage(r.usage.prompt_tokens, r.usage.completion_tokens, "usage")
        text, finish, usage = "", None, None
        for chunk in self.oa.completions.create(
            model=self.model,
            prompt="Once upon a time",
            max_tokens=MAX_TOKENS,
            stream=True,
            stream_options={"include_usage": True},
            **self.sampling,
        ):
            usage = chunk.usage or usage
            for ch in chunk.choices:
                text += ch.text
                finish = ch.finish_reason or finish
        expect(text.strip(), "no streamed text")
        expect(finish in ("stop", "length"), f"streamed finish_reason {finish!r}")
        expect(usage is not None, "no usage chunk")
        positive_usage(usage.prompt_tokens, usage.completion_tokens, "streamed usage")
        return f"whole {r.usage.completion_tokens} tokens, streamed {usage.completion_tokens}"

    def chat_tool_stream(self):
        stream = self.oa.chat.completions.create(
            model=self.model,
            messages=[{"role": "user", "content": TOOL_ASK}],
            tools=[{"type": "function", "function": TOOL}],
            tool_choice="required",
            max_tokens=64,
            stream=True,
            stream_options={"include_usage": True},
            **self.sampling,
        )
        calls, text, finish, usage = {}, "", None, None
        for chunk in stream:
            usage = chunk.usage or usage
            for ch in chunk.choices:
                text += ch.delta.content or ""
                finish = ch.finish_reason or finish
                for d in ch.delta.tool_calls or []:
                    call = calls.setdefault(d.index, {"id": None, "name": None, "arguments": ""})
                    if d.id:
                        expect(call["id"] is None, "a second id for one call")
                        call["id"] = d.id
                    if d.function and d.function.name:
                        call["name"] = d.function.name
                    if d.function and d.function.arguments:
                        expect(call["name"], "arguments before the function's name")
                        call["arguments"] += d.function.arguments
        expect(usage is not None, "no usage chunk")
        positive_usage(usage.prompt_tokens, usage.completion_tokens, "usage")
        if not calls:
            expect(finish != "tool_calls", "finish_reason tool_calls without a tool call")
            self.no_call("chat tool_choice=required", text)
            return "no call (reported)"
        call = calls[0]
        expect(call["id"], "the call has no id")
        expect(call["name"] == "search", f"called {call['name']!r}")
        args = json_object(call["arguments"], "tool call")
        expect(finish == "tool_calls", f"finish_reason {finish!r} after a tool call")
        return f"search({json.dumps(args)[:40]})"

    # OpenAI Responses.

    def responses(self):
        r = self.oa.responses.create(model=self.model, input=ASK, max_output_tokens=MAX_TOKENS, temperature=0)
        expect(r.object == "response", f"object {r.object!r}")
        expect(r.status in ("completed", "incomplete"), f"status {r.status!r}")
        expect(r.output_text.strip(), "empty output_text")
        positive_usage(r.usage.input_tokens, r.usage.output_tokens, "usage")
        return f"{r.status}, {r.usage.output_tokens} tokens"

    def responses_stream(self):
        stream = self.oa.responses.create(
            model=self.model, input=ASK, max_output_tokens=MAX_TOKENS, stream=True, temperature=0
        )
        kinds, deltas, numbers, final, done_text = [], "", [], None, None
        for ev in stream:
            kinds.append(ev.type)
            numbers.append(ev.sequence_number)
            if ev.type == "response.output_text.delta":
                deltas += ev.delta
            elif ev.type == "response.output_text.done":
                done_text = ev.text
            elif ev.type in ("response.completed", "response.incomplete"):
                final = ev.response
        expect(kinds[:2] == ["response.created", "response.in_progress"], f"opens with {kinds[:2]}")
        expect(kinds[-1] in ("response.completed", "response.incomplete"), f"ends with {kinds[-1]}")
        order = [
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
        ]
        firsts = [kinds.index(k) for k in order if k in kinds]
        expect(len(firsts) == len(order), f"missing events: {[k for k in order if k not in kinds]}")
        expect(firsts == sorted(firsts), f"events out of order: {kinds}")
        increasing = all(a < b for a, b in zip(numbers, numbers[1:]))
        expect(increasing, f"sequence numbers not increasing: {numbers}")
        expect(deltas.strip(), "no streamed text")
        expect(done_text == deltas, "output_text.done differs from the deltas")
        expect(final is not None and final.output_text == deltas, "the final response's text differs")
        positive_usage(final.usage.input_tokens, final.usage.output_tokens, "usage")
        return f"{len(kinds)} events, {final.status}"

    def responses_tool_stream(self):
        tool = {"type": "function", **TOOL}
        stream = self.oa.responses.create(
            model=self.model,
            input=TOOL_ASK,
            tools=[tool],
            tool_choice="required",
            max_output_tokens=64,
            stream=True,
            temperature=0,
        )
        args, done_args, final, item = "", None, None, None
        for ev in stream:
            if ev.type == "response.output_item.added":
                item = ev.item
            elif ev.type == "response.function_call_arguments.delta":
                args += ev.delta
            elif ev.type == "response.function_call_arguments.done":
                done_args = ev.arguments
            elif ev.type in ("response.completed", "response.incomplete"):
                final = ev.response
        expect(final is not None, "no response.completed")
        positive_usage(final.usage.input_tokens, final.usage.output_tokens, "usage")
        if item is None or item.type != "function_call":
            self.no_call("responses tool_choice=required", final.output_text)
            return "no call (reported)"
        expect(item.name == "search", f"called {item.name!r}")
        expect(done_args == args, "arguments.done differs from the deltas")
        json_object(args, "function_call")
        expect(final.output[0].type == "function_call", "the final output is not the call")
        return f"search({args[:40]})"

    # Anthropic Messages.

    def messages(self):
        m = self.an.messages.create(
            model=self.model,
            max_tokens=MAX_TOKENS,
            messages=[{"role": "user", "content": ASK}],
            extra_body=GREEDY,
        )
        expect(m.type == "message" and m.role == "assistant", f"type {m.type!r}, role {m.role!r}")
        expect(m.content and m.content[0].type == "text", f"content {m.content!r}")
        expect(m.content[0].text.strip(), "empty text")
        expect(m.stop_reason in ("end_turn", "max_tokens", "stop_sequence"), f"stop_reason {m.stop_reason!r}")
        positive_usage(prompt_of(m.usage), m.usage.output_tokens, "usage")
        return f"{m.usage.output_tokens} tokens, {m.stop_reason}"

    def messages_stream(self):
        kinds = []
        with self.an.messages.stream(
            model=self.model,
            max_tokens=MAX_TOKENS,
            system="You are brief.",
            messages=[{"role": "user", "content": ASK}],
            extra_body=GREEDY,
        ) as stream:
            for ev in stream:
                kinds.append(ev.type)
            final = stream.get_final_message()
        raw = [k for k in kinds if k not in ("text", "input_json")]
        expect(raw[0] == "message_start", f"opens with {raw[0]!r}")
        expect(raw[-2:] == ["message_delta", "message_stop"], f"ends with {raw[-2:]}")
        order = ["content_block_start", "content_block_delta", "content_block_stop", "message_delta"]
        firsts = [raw.index(k) for k in order if k in raw]
        expect(len(firsts) == len(order), f"missing events: {[k for k in order if k not in raw]}")
        expect(firsts == sorted(firsts), f"events out of order: {raw}")
        expect(final.content[0].type == "text" and final.content[0].text.strip(), "no text")
        positive_usage(prompt_of(final.usage), final.usage.output_tokens, "usage")
        return f"{len(raw)} events, {final.stop_reason}"

    def messages_tool(self):
        tool = {"name": TOOL["name"], "description": TOOL["description"], "input_schema": TOOL["parameters"]}
        common = dict(
            model=self.model,
            max_tokens=64,
            messages=[{"role": "user", "content": TOOL_ASK}],
            tools=[tool],
            tool_choice={"type": "any"},
            extra_body=GREEDY,
        )
        with self.an.messages.stream(**common) as stream:
            final = stream.get_final_message()
        whole = self.an.messages.create(**common)
        out = []
        for where, m in (("messages.stream", final), ("messages.create", whole)):
            uses = [b for b in m.content if b.type == "tool_use"]
            if not uses:
                expect(m.stop_reason != "tool_use", f"{where}: stop_reason tool_use without a tool_use block")
                text = "".join(b.text for b in m.content if b.type == "text")
                self.no_call(f"{where} tool_choice=any", text)
                out.append("no call (reported)")
                continue
            expect(uses[0].name == "search", f"{where}: called {uses[0].name!r}")
            expect(isinstance(uses[0].input, dict), f"{where}: input {uses[0].input!r} is not an object")
            expect(uses[0].id, f"{where}: the tool_use block has no id")
            expect(m.stop_reason == "tool_use", f"{where}: stop_reason {m.stop_reason!r}")
            out.append(f"search({json.dumps(uses[0].input)[:30]})")
        return ", ".join(out)

    # What serve refuses.

    def refusals(self):
        cases = [
            (
                "response_format",
                lambda: self.oa.chat.completions.create(
                    model=self.model,
                    messages=[{"role": "user", "content": ASK}],
                    response_format={"type": "json_object"},
                ),
            ),
            (
                "previous_response_id",
                lambda: self.oa.responses.create(model=self.model, input=ASK, previous_response_id="resp_x"),
            ),
            (
                "thinking",
                lambda: self.an.messages.create(
                    model=self.model,
                    max_tokens=2048,
                    messages=[{"role": "user", "content": ASK}],
                    thinking={"type": "enabled", "budget_tokens": 1024},
                ),
            ),
        ]
        for field, call in cases:
            try:
                call()
            except (openai.BadRequestError, anthropic.BadRequestError) as e:
                expect(field in str(e), f"the 400 for {field} does not name it: {e}")
                continue
            raise Failed(f"a request with {field} was answered, not refused")
        return ", ".join(f for f, _ in cases)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base_url", help="the server's root, e.g. http://127.0.0.1:8000")
    ap.add_argument("--serve", action="store_true", help="the server is tokenpace serve")
    args = ap.parse_args()
    base = args.base_url.rstrip("/").removesuffix("/v1")
    label = "serve" if args.serve else "sim"
    try:
        checks = Checks(base, args.serve)
    except Exception as e:  # noqa: BLE001 - any failure to reach it is the finding
        print(f"sdk_check: could not list the models of {base}: {e}", file=sys.stderr)
        return 1
    names = [
        "chat",
        "chat_stream",
        "completions",
        "chat_tool_stream",
        "responses",
        "responses_stream",
        "responses_tool_stream",
        "messages",
        "messages_stream",
        "messages_tool",
    ]
    if args.serve:
        names.append("refusals")
    passed, failed = 0, 0
    for name in names:
        try:
            detail = getattr(checks, name)()
            print(f"ok   {label} {name}: {detail}")
            passed += 1
        except Failed as e:
            print(f"FAIL {label} {name}: {e}")
            failed += 1
        except Exception as e:  # noqa: BLE001 - an SDK that cannot parse is a failure
            print(f"FAIL {label} {name}: {type(e).__name__}: {e}")
            traceback.print_exc(limit=3)
            failed += 1
    for note in checks.notes:
        print(f"note {label} {note}")
    print(f"sdk_check: {label} with openai {openai.__version__} and anthropic {anthropic.__version__}")
    print(f"sdk_check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
