"""Streaming with OpenAI autolog: the caller iterates the same chunks, the span gets the text and usage.

Needs an OpenAI-compatible endpoint: the SDK reads OPENAI_BASE_URL and OPENAI_API_KEY.
"""

import asyncio

import openai

import heron
import heron.openai

heron.openai.autolog()
messages = [{"role": "user", "content": "Tell me about herons."}]

# Heron asks the API for usage and hides the extra usage-only chunk: every chunk here has choices.
client = openai.OpenAI()
stream = client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
print(text)

span = heron.get_trace(heron.get_last_active_trace_id()).data.spans[0]
print("assembled:", span.outputs)
print("usage:", span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"])
assert span.outputs == [{"role": "assistant", "content": text}]


# Async streams, and streams left early: the span ends when the stream is closed.
async def main() -> None:
    async with openai.AsyncOpenAI() as aclient:
        stream = await aclient.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    print("first words:", chunk.choices[0].delta.content)
                    break


asyncio.run(main())
span = heron.get_trace(heron.get_last_active_trace_id()).data.spans[0]
print("stopped early:", span.outputs, span.status.status_code)

# The Responses API streams too.
with client.responses.stream(model="gpt-4.1", input="Herons, in one line.") as events:
    print(events.get_final_response().output_text)
span = heron.get_trace(heron.get_last_active_trace_id()).data.spans[0]
print(span.name, span.attributes["gen_ai.usage.output_tokens"], "output tokens")
