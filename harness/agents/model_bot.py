"""`model:<model spec>`: a support bot played by any engine backend, with a system prompt file.

The prompt file may use {company} and {product}. Chat models get the chat template; models
without one get a transcript-continuation prompt that stops at the customer's next line.
"""

from __future__ import annotations

from harness.agents.base import (
    Agent,
    AgentConfig,
    AgentContext,
    AgentError,
    AgentView,
    read_prompt_file,
)
from harness.engine.base import Engine, Request
from harness.engine.registry import ModelOptions

# one chat message: it ends where the model starts the next speaker or a new paragraph
STOP = ("\nCustomer", "\nAgent", "Customer:", "\n\n")


class ModelAgent:
    needs_persona = False

    def __init__(
        self, name: str, engine: Engine, options: ModelOptions, system_prompt: str
    ) -> None:
        self.name = name
        self.engine = engine
        self.options = options
        self.system_prompt = system_prompt

    def request(self, view: AgentView) -> Request:
        system = self.system_prompt.format(company=view.company, product=view.product)
        sampling = self.options.sampling(
            seed=view.seed + 7919 * view.agent_turns_so_far(), stop=STOP
        )
        if self.engine.supports_chat():
            messages = [{"role": "system", "content": system}]
            messages += [
                {"role": "user" if t["role"] == "customer" else "assistant", "content": t["text"]}
                for t in view.turns
            ]
            return Request(sampling, messages=tuple(messages))
        history = "\n".join(f"{t['role'].capitalize()}: {t['text']}" for t in view.turns)
        return Request(sampling, prompt=f"{system}\n\n{history}\nAgent:")

    async def respond(self, view: AgentView) -> str:
        completion = await self.engine.generate(self.request(view))
        text = completion.text.strip()
        if not text:
            raise AgentError("the model returned an empty reply")
        return text


def build_model_agent(target: str, config: AgentConfig, context: AgentContext) -> Agent:
    options = context.options_for(target, config.model)
    engine = context.pool.get(options)
    prompt = read_prompt_file(config.system_prompt, "support_bot.txt")
    return ModelAgent(config.display_name, engine, options, prompt)
