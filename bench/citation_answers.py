# ruff: noqa: RUF001
"""Labelled answers for bench/citations.py: what a model might answer, and what each sentence rests on.

Written from the documents, paraphrased the way a model paraphrases (other words for
the same thing, other inflections, clauses turned around), with plausible sentences no
passage supports among them: a detail the documents do not give, a number changed, a
framing sentence, a closing offer. After each sentence, ⟦…⟧ names the passages that
support it as `document#Heading` (the document's file name without `.md`), or is empty.
The labels were written with the answers, before the matcher was tuned, and were not
changed to suit it.

`sample`: the bundled sample (kbchat/server/sample). `sqlite`: bench/corpus/sqlite,
sections of SQLite's own documentation, which no one here wrote. The first answers
of each corpus tune the threshold; the later ones (HELD_OUT) are only measured.
"""

from __future__ import annotations

from typing import NamedTuple


class Labelled(NamedTuple):
    corpus: str
    question: str
    marked: str  # the answer, each sentence followed by ⟦its passages⟧


HELD_OUT = {"sample": 7, "sqlite": 5}  # answers of each corpus, from its end, that tuning never sees

ANSWERS = [
    Labelled(
        "sample",
        "what does the Business plan cost and include?",
        """\
The Business plan is priced at $79 per user each month, billed monthly and before tax. ⟦plans-and-pricing#Plans and pricing⟧
On top of everything in Team it adds Alerts, SAML single sign-on, the audit log and refreshes every 15 minutes. ⟦plans-and-pricing#Plans and pricing plans-and-pricing#The premium plan⟧
Paying annually instead brings the price down by a fifth. ⟦⟧
It also comes with a dedicated support engineer and a 99.95% uptime SLA. ⟦⟧
Let me know if you would like a comparison with the other plans! ⟦⟧
""",
    ),
    Labelled(
        "sample",
        "how fast does support answer?",
        """\
How quickly support replies depends on your plan: ⟦⟧

- Free: best-effort help through the community forum. ⟦support-policy#Response times⟧
- Team: a first response within one business day, Monday to Friday, 08:00–18:00 CET. ⟦support-policy#Response times⟧
- Business: within four business hours, in both CET and ET hours. ⟦support-policy#Response times⟧
- Enterprise: urgent issues are answered within an hour, around the clock. ⟦support-policy#Response times⟧

You can reach the team by email at support@pinecrest.example or through the chat inside the app. ⟦support-policy#Support policy⟧
Phone support is offered on every paid plan. ⟦⟧
""",
    ),
    Labelled(
        "sample",
        "can I get a refund?",
        """\
It depends on how you pay. ⟦⟧
A monthly plan can be cancelled whenever you like, but it keeps running until the paid month ends and the unused days are not refunded. ⟦billing-and-refunds#Refund policy⟧
Annual plans are fully refundable during the first 30 days after purchase; later, you get back the unused whole months pro rata. ⟦billing-and-refunds#Refund policy⟧
The money is returned to the card or account you paid with within 10 business days. ⟦billing-and-refunds#Refund policy⟧
Refunds for monthly plans can be requested through the billing page within 48 hours. ⟦⟧
""",
    ),
    Labelled(
        "sample",
        "is my data safe with Pinecrest?",
        """\
Pinecrest encrypts your data both in transit, using TLS 1.2 or later, and at rest, using AES-256. ⟦security#Security⟧
The credentials for your databases are kept in a separate vault and are never displayed after you save them. ⟦security#Security⟧
The company has a SOC 2 Type II report that is renewed annually, and it complies with GDPR. ⟦security#Certifications⟧
ISO 27001 certification has already been achieved. ⟦⟧
All data is also replicated across three regions for disaster recovery. ⟦⟧
""",
    ),
    Labelled(
        "sample",
        "how long is my data kept?",
        """\
Query results and cached tables are kept for as long as the dashboard or pipeline using them exists. ⟦data-retention#Data retention and privacy⟧
Run history is retained for 90 days on the Team plan and for a year on Business and Enterprise. ⟦data-retention#Data retention and privacy⟧
If you delete a workspace, its data leaves the live systems within 7 days and the backups within 35 days. ⟦data-retention#Deleting your data⟧
Before deleting, you can export every dashboard and pipeline definition as JSON. ⟦data-retention#Deleting your data⟧
Run history on the Free plan is kept for 30 days. ⟦⟧
""",
    ),
    Labelled(
        "sample",
        "which databases can I connect to?",
        """\
Pinecrest can read from most common databases and warehouses: ⟦⟧

| source | kind |
| --- | --- |
| PostgreSQL, MySQL, Microsoft SQL Server | databases ⟦integrations#Data sources⟧ |
| BigQuery, Snowflake, Redshift | warehouses ⟦integrations#Data sources⟧ |
| Google Sheets, CSV and Excel uploads | files ⟦integrations#Data sources⟧ |
| Oracle and MongoDB | databases ⟦⟧ |

Any REST API can be connected through Pipelines as well. ⟦integrations#Data sources⟧
Dashboards itself connects to PostgreSQL, MySQL, BigQuery, Snowflake and uploaded CSV files. ⟦products#Pinecrest Dashboards⟧
""",
    ),
    Labelled(
        "sample",
        "how do I get started?",
        """\
Most teams build their first dashboard in less than an hour. ⟦onboarding#Onboarding⟧

1. Set up a workspace and invite your colleagues. ⟦onboarding#First steps⟧
2. Connect a data source, such as a database, a warehouse or an uploaded CSV file. ⟦onboarding#First steps⟧
3. Start from a template or build a chart from one of your tables. ⟦onboarding#First steps⟧
4. Share the finished dashboard through a link, or embed it elsewhere. ⟦onboarding#First steps⟧

Business customers also get a one-hour onboarding call with a solutions engineer. ⟦onboarding#Onboarding help⟧
A free data audit is included for every new workspace. ⟦⟧
""",
    ),
    Labelled(
        "sample",
        "what is the API rate limit?",
        """\
The REST API lets you manage dashboards, run pipelines and read the history of alerts, authenticated with a workspace key sent in the `x-api-key` header. ⟦api-and-limits#API and rate limits⟧
The limit on requests per minute grows with the plan: 60 on Free, 300 on Team and 1000 on Business, with a custom limit for Enterprise. ⟦api-and-limits#Rate limits⟧
When you go over it, the API answers with HTTP 429 and a `Retry-After` header telling you how many seconds to wait before retrying. ⟦api-and-limits#Rate limits⟧
Limits are counted per user, not per workspace. ⟦⟧
Hope this helps! ⟦⟧
""",
    ),
    Labelled(
        "sample",
        "tell me about the company",
        """\
Pinecrest Analytics builds analytics software for small and mid-sized teams. ⟦company#About Pinecrest Analytics⟧
It was started in 2019 in Porto, Portugal, and now employs roughly 120 people in Europe and North America. ⟦company#About Pinecrest Analytics⟧
Its headquarters are in Porto, with a second office in Toronto and remote staff in 14 countries. ⟦company#Offices⟧
The mission is to let every team answer questions about its own data without waiting on a data engineer. ⟦company#Mission⟧
The company went public in 2024. ⟦⟧
Its founders previously worked at a large consulting firm. ⟦⟧
""",
    ),
    Labelled(
        "sample",
        "what changed recently?",
        """\
The 2026.10 release taught anomaly detection in Alerts to learn weekly seasonality. ⟦release-notes#2026.10⟧
Pipelines gained 12 new connectors in that release, HubSpot and Zendesk among them. ⟦release-notes#2026.10⟧
Shared and embedded dashboards can now be shown in dark mode. ⟦release-notes#2026.10⟧
In 2026.07, SAML single sign-on moved down from Enterprise to the Business plan, and the audit log became exportable to CSV. ⟦release-notes#2026.07⟧
A mobile app for iOS and Android is planned for the next release. ⟦⟧
""",
    ),
    Labelled(
        "sample",
        "can I pay by bank transfer?",
        """\
Yes, but only on some plans. ⟦⟧
Invoices are sent out on the first day of every billing period. ⟦billing-and-refunds#Billing and refunds⟧
Annual Business and Enterprise plans may be paid by bank transfer within 30 days; all other plans are paid by card. ⟦billing-and-refunds#Billing and refunds⟧
PayPal is accepted for monthly plans as well. ⟦⟧
When you add seats, the extra users are charged pro rata for the remainder of the period, while removed users only drop off at renewal. ⟦billing-and-refunds#Changing seats⟧
""",
    ),
    Labelled(
        "sample",
        "do you offer discounts for schools?",
        """\
Yes: registered non-profits and schools receive 50% off the Team and Business plans. ⟦faq#Is there a discount for non-profits or education?⟧
To apply, email sales@pinecrest.example with proof of your status. ⟦faq#Is there a discount for non-profits or education?⟧
Students can also use the Business plan for free with a university email address. ⟦⟧
Plans can be changed later: upgrades apply immediately, and downgrades apply at the next renewal. ⟦faq#Can I change plans later?⟧
""",
    ),
    Labelled(
        "sample",
        "who can sign in and what is logged?",
        """\
Workspaces have four roles: owner, admin, editor and viewer. ⟦security#Access control⟧
Single sign-on through SAML is available on Business and Enterprise, and two-factor authentication can be enforced. ⟦security#Access control plans-and-pricing#The premium plan⟧
On Business and above, every sign-in and every change of permissions is written to the audit log. ⟦security#Access control⟧
Audit log entries are kept for seven years. ⟦⟧
If you find a vulnerability, write to security@pinecrest.example; they reply within two business days and will not take legal action over good-faith research. ⟦security#Reporting a vulnerability⟧
""",
    ),
    Labelled(
        "sample",
        "what happens when my trial ends?",
        """\
Team and Business both start with a free 14-day trial, and no credit card is required. ⟦plans-and-pricing#Trials⟧
Once the trial is over, the workspace falls back to the Free plan unless you pick a paid one. ⟦plans-and-pricing#Trials faq#What happens when a trial ends?⟧
None of your data is deleted; the features above Free simply pause until you upgrade. ⟦faq#What happens when a trial ends?⟧
You can extend the trial once by another 14 days from the billing page. ⟦⟧
""",
    ),
    Labelled(
        "sample",
        "where is my data stored, and can I host it myself?",
        """\
By default, workspaces are hosted in the EU, in Frankfurt. ⟦data-retention#Where data lives⟧
Enterprise customers can choose the US (Virginia) or Canada (Montreal) for data residency. ⟦data-retention#Where data lives faq#Do you offer an on-premises version?⟧
There is no on-premises version: Pinecrest is only available as a hosted service. ⟦faq#Do you offer an on-premises version?⟧
A private cloud deployment on AWS is possible for Enterprise customers. ⟦⟧
""",
    ),
    Labelled(
        "sample",
        "can alerts notify us in Slack?",
        """\
Yes. ⟦⟧
Alerts watches a metric and tells you when it changes, using thresholds or anomaly detection. ⟦products#Pinecrest Alerts⟧
Notifications can go to email, Slack, Microsoft Teams, PagerDuty or a webhook. ⟦integrations#Notifications products#Pinecrest Alerts⟧
Alerts is included in the Business plan and above. ⟦products#Pinecrest Alerts plans-and-pricing#Plans and pricing⟧
Slack alerts can also include a screenshot of the chart. ⟦⟧
Dashboards can be embedded in other apps using signed URLs on Team and above. ⟦integrations#Embedding⟧
""",
    ),
    Labelled(
        "sqlite",
        "how do I build SQLite on Linux?",
        """\
Start by making a separate directory for the build output; this is recommended but not required. ⟦source-repository#Compiling for Unix-like systems⟧
From inside that build directory, run the `configure` script from the root of the source tree, then run `make`. ⟦source-repository#Compiling for Unix-like systems⟧
The configure script relies on autoconf 2.61 and libtool. ⟦source-repository#Compiling for Unix-like systems⟧
If it does not work for you, copy the generic `Makefile.linux-gcc` from the top directory and adapt it. ⟦source-repository#Compiling for Unix-like systems⟧
A CMake build is also provided for Linux. ⟦⟧
The build normally takes under a minute on a modern machine. ⟦⟧
""",
    ),
    Labelled(
        "sqlite",
        "what is JSONB?",
        """\
JSONB is a binary encoding of JSON that SQLite supports since version 3.45.0, from around January 2024. ⟦jsonb#What Is JSONB?⟧
It is stored as a BLOB. ⟦jsonb#What Is JSONB?⟧
Compared with text JSON it is slightly smaller, typically by 5% to 10%, and takes less than half the CPU cycles to process. ⟦jsonb#What Is JSONB?⟧
The name was inspired by PostgreSQL, but the two formats are not binary compatible at all. ⟦jsonb#What Is JSONB?⟧
JSONB values can be indexed directly for faster lookups. ⟦⟧
""",
    ),
    Labelled(
        "sqlite",
        "should my application read JSONB bytes directly?",
        """\
No. ⟦⟧
Applications should treat JSONB as an opaque BLOB and use it only through the JSON SQL functions. ⟦jsonb#The Purpose Of This Document jsonb#Internal Use Only⟧
The format is documented in the source tree for SQLite's core developers, not for application developers. ⟦jsonb#Internal Use Only⟧
It is meant to stay backwards compatible, so you will not need to export and re-import your database when upgrading SQLite. ⟦jsonb#The Purpose Of This Document jsonb#Internal Use Only⟧
A C API for reading JSONB elements is planned for a future release. ⟦⟧
""",
    ),
    Labelled(
        "sqlite",
        "how is a JSONB element encoded?",
        """\
Every JSON element becomes a header followed by a payload. ⟦jsonb#Encoding⟧
The header gives the element's type (string, number, boolean, null, object or array) and the payload's size, and it is between 1 and 9 bytes long. ⟦jsonb#Encoding⟧
If the upper four bits of the first header byte are 0 to 11, the header is a single byte and those bits hold the payload size. ⟦jsonb#Payload Size⟧
Values from 12 to 15 mean the header is 2, 3, 5 or 9 bytes, with the size stored as a big-endian integer in the bytes that follow. ⟦jsonb#Payload Size⟧
The payload is always compressed with zlib. ⟦⟧
""",
    ),
    Labelled(
        "sqlite",
        "where is the SQLite source code kept?",
        """\
SQLite's sources are managed with Fossil, a distributed version control system written for SQLite's own development. ⟦source-repository#Version Control⟧
Repositories on GitHub are only mirrors, and their check-in names differ from the official ones. ⟦source-repository#Version Control⟧
The official name of a check-in is in the `manifest.uuid` file at the root of the tree. ⟦source-repository#Version Control source-repository#Verifying Code Authenticity⟧
Pull requests on GitHub are reviewed every week. ⟦⟧
""",
    ),
    Labelled(
        "sqlite",
        "what is the amalgamation?",
        """\
The amalgamation is a single large source file, **sqlite3.c**, that combines all the individual C sources and headers. ⟦source-repository#The Amalgamation⟧
It is the recommended way to use SQLite inside a bigger application. ⟦source-repository#The Amalgamation⟧
Because the compiler sees everything at once, it can optimise across procedures, and SQLite runs about 5% faster. ⟦source-repository#The Amalgamation⟧
The file has more than 200K lines, which some debuggers such as MSVC's cannot handle. ⟦source-repository#The Amalgamation⟧
The amalgamation is rebuilt automatically every night. ⟦⟧
""",
    ),
    Labelled(
        "sqlite",
        "can I build SQLite on Windows?",
        """\
Yes: on Windows every build product can be compiled with MSVC. ⟦source-repository#Using MSVC for Windows systems⟧
Open the command prompt for your compiler version, for example the Developer Command Prompt for VS2013, and run NMAKE with `Makefile.msc`. ⟦source-repository#Using MSVC for Windows systems⟧
Adding `DEBUG=1` to the command line is recommended when you debug SQLite, and `FOR_WINRT=1` builds for WinRT. ⟦source-repository#Using MSVC for Windows systems⟧
Tcl is not needed to run SQLite, but the makefiles do require a Tcl installation. ⟦source-repository#Using MSVC for Windows systems⟧
MinGW builds are not supported. ⟦⟧
""",
    ),
    Labelled(
        "sqlite",
        "how can I check that my SQLite source is authentic?",
        """\
The `manifest` file at the root lists a SHA3-256 hash, or a SHA1 hash for older files, of every source file. ⟦source-repository#Verifying Code Authenticity⟧
The version name of the whole tree is the SHA3-256 hash of the `manifest` file itself. ⟦source-repository#Verifying Code Authenticity⟧
The `manifest.uuid` file should hold that same hash. ⟦source-repository#Verifying Code Authenticity⟧
If all these hashes agree, your source tree is authentic and unaltered. ⟦source-repository#Verifying Code Authenticity⟧
Releases are also signed with a GPG key. ⟦⟧
""",
    ),
    Labelled(
        "sqlite",
        "where are the parts of the source tree?",
        """\
- `src/`: most of the core sources, plus the files for the testfixture harness. ⟦source-repository#Source Code Tour⟧
- `test/`: the test scripts and programs. ⟦source-repository#Source Code Tour⟧
- `ext/`: extensions, such as full-text search in `ext/fts3` and R-Tree in `ext/rtree`. ⟦source-repository#Source Code Tour⟧
- `docs/`: the full website documentation. ⟦⟧

SQLite started out as a Tcl extension before becoming an independent library. ⟦source-repository#Source Code Tour⟧
""",
    ),
    Labelled(
        "sqlite",
        "how is the SQL parser generated?",
        """\
The SQL parser, `parse.c`, is generated from the grammar in `src/parse.y`. ⟦source-repository#Generated Source Code Files⟧
The conversion is done by the Lemon LALR(1) parser generator, whose source is `tool/lemon.c`. ⟦source-repository#Generated Source Code Files⟧
Lemon produces the `parse.h` header at the same time as `parse.c`. ⟦source-repository#Generated Source Code Files⟧
Keyword codes come from a hash table in `keywordhash.h`, generated by a C program. ⟦source-repository#Generated Source Code Files⟧
Bison can be used instead of Lemon if you prefer. ⟦⟧
""",
    ),
    Labelled(
        "sqlite",
        "why are numbers stored as text in JSONB?",
        """\
JSONB is meant to be quick to convert to and from text JSON, so conversions are lazy and only happen when needed. ⟦jsonb#Design Rationale For Element Types⟧
Numbers are kept as text, as a direct copy of the text JSON values they came from. ⟦jsonb#Design Rationale For Element Types⟧
Skipping the first and third stages of processing makes JSONB much faster than text JSON. ⟦jsonb#Design Rationale For Element Types⟧
A valid JSONB BLOB holds exactly one JSON element that fills the whole BLOB. ⟦jsonb#Valid JSONB BLOBs⟧
Floating-point numbers are rounded to 15 significant digits. ⟦⟧
""",
    ),
]
