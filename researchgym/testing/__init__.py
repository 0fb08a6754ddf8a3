"""Conformance checkers: whether a component keeps its contract.

As Gymnasium's env checker and Inspect AI's sandbox tests do for theirs; run them over a
plug-in in its own tests.

```
check_sandbox(backend)      sandbox.py   a sandbox provider: shell, timeouts, caps, files
check_sink(backend)         sink.py      a sink: every table stored, keyed rows, StorageError
check_model(name)           model.py     a model: replies, the hook sees every call first
check_env(env)              env.py       an environment: reset, step, validate, submit, end
check_agent(kind, params)   agent.py     an agent kind: one episode through the engine
```

Each raises ``ConformanceError`` (an ``AssertionError``) naming the broken promise::

    async def test_my_provider_keeps_the_contract():
        await check_sandbox("my-provider")
"""

from __future__ import annotations

import lazy_loader

# Each name is imported from its module when first used (the names: __init__.pyi).
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
