"""Fixed word lists the demo company is built from (kept apart so demo.py reads as logic)."""

from __future__ import annotations

from decimal import Decimal

TEAMS = ("Enterprise", "Mid-Market")

# (key, name, email, role, team index or None); keys name the fixed demo tokens.
STAFF = (
    ("rep1", "Alice Moreno", "alice.moreno@crm-demo.example", "rep", 0),
    ("rep2", "Ben Okafor", "ben.okafor@crm-demo.example", "rep", 1),
    ("rep3", "Chloe Dubois", "chloe.dubois@crm-demo.example", "rep", 0),
    ("rep4", "Diego Alvarez", "diego.alvarez@crm-demo.example", "rep", 1),
    ("rep5", "Emma Schulz", "emma.schulz@crm-demo.example", "rep", 0),
    ("rep6", "Farid Haddad", "farid.haddad@crm-demo.example", "rep", 1),
    ("manager1", "Grace Lin", "grace.lin@crm-demo.example", "manager", 0),
    ("manager2", "Hugo Berg", "hugo.berg@crm-demo.example", "manager", 1),
    ("agent1", "Ines Costa", "ines.costa@crm-demo.example", "support_agent", None),
    ("agent2", "Jonas Weber", "jonas.weber@crm-demo.example", "support_agent", None),
    ("admin", "Kim Admin", "admin@crm-demo.example", "admin", None),
)

# Accounts with a fixed owner (staff key): the walkthrough and the RBAC tests rely on them.
# "Acme Corp" and "Acme Logistics" are deliberately alike: the "which one?" case.
FIXED_ACCOUNTS = (
    ("Acme Corp", "Manufacturing", "United States", "rep1"),
    ("Acme Logistics", "Logistics", "United States", "rep1"),
    ("Northwind Traders", "Retail", "United Kingdom", "rep1"),
    ("Globex Corporation", "Energy", "Germany", "rep2"),
    ("Globex Health", "Healthcare", "Germany", "rep2"),
    ("Initech", "Software", "United States", "rep3"),
    ("Umbrella Pharma", "Healthcare", "France", "rep4"),
    ("Stark Components", "Manufacturing", "Canada", "rep5"),
)

NAME_HEADS = (
    "Blue Harbor", "Summit", "Redwood", "Silverline", "Brightpath", "Ironclad", "Northstar",
    "Evergreen", "Pinnacle", "Cobalt", "Lakeside", "Granite", "Horizon", "Meridian", "Oakridge",
    "Riverbend", "Sterling", "Tidewater", "Vantage", "Westbrook", "Crescent", "Falcon",
    "Juniper", "Keystone", "Lumen", "Maple", "Nimbus", "Orion", "Polaris", "Quarry",
    "Alder", "Beacon", "Cedar", "Driftwood", "Ember", "Fjord", "Harbourview", "Ivory", "Jasper",
    "Kestrel", "Larkspur", "Mosaic", "Nordic", "Onyx", "Prairie", "Quill", "Rookwood", "Saffron",
    "Thornfield", "Upland", "Verdant", "Willow", "Yarrow", "Zephyr", "Aurora", "Bramble",
    "Copperleaf", "Dunmore",
)  # fmt: skip
NAME_TAILS = (
    "Analytics", "Foods", "Freight", "Dynamics", "Labs", "Media", "Systems", "Retail",
    "Energy", "Health", "Robotics", "Logistics", "Textiles", "Telecom", "Capital",
)  # fmt: skip
INDUSTRY_BY_TAIL = {
    "Analytics": "Software", "Foods": "Food & Beverage", "Freight": "Logistics",
    "Dynamics": "Manufacturing", "Labs": "Biotech", "Media": "Media", "Systems": "Software",
    "Retail": "Retail", "Energy": "Energy", "Health": "Healthcare", "Robotics": "Manufacturing",
    "Logistics": "Logistics", "Textiles": "Manufacturing", "Telecom": "Telecom",
    "Capital": "Financial Services",
}  # fmt: skip
SUFFIXES = ("Inc", "Ltd", "GmbH", "LLC", "", "", "")
COUNTRIES = (
    "United States", "United Kingdom", "Germany", "France", "Canada", "Netherlands", "Spain",
    "Australia", "Sweden", "Ireland",
)  # fmt: skip

FIRST_NAMES = (
    "Anna", "Ravi", "Sofia", "Liam", "Mei", "Noah", "Olivia", "Lucas", "Amara", "Mateo",
    "Yuki", "Ethan", "Zara", "Omar", "Lea", "Jack", "Priya", "Tom", "Nina", "Sam",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Patel", "Rossi", "Nguyen", "Kowalski", "Garcia", "Jensen", "Brown", "Ito",
    "Murphy", "Silva", "Novak", "Khan", "Fischer", "Dupont", "Larsen", "Reyes", "Cohen",
)  # fmt: skip
TITLES = (
    "CEO", "CFO", "Head of Operations", "IT Director", "Procurement Manager",
    "Office Manager", "VP Sales", "Operations Lead",
)  # fmt: skip

# (sku, name, category, unit price)
PRODUCTS = (
    ("CRM-SEAT-STD", "CRM seat, Standard (annual)", "Software", Decimal("480.00")),
    ("CRM-SEAT-PRO", "CRM seat, Professional (annual)", "Software", Decimal("960.00")),
    ("CRM-SEAT-ENT", "CRM seat, Enterprise (annual)", "Software", Decimal("1800.00")),
    ("ANL-ADDON", "Analytics add-on (annual)", "Software", Decimal("2400.00")),
    ("API-PACK-1M", "API call pack, 1M calls", "Software", Decimal("350.00")),
    ("ONB-STD", "Onboarding package", "Services", Decimal("3500.00")),
    ("TRN-DAY", "On-site training day", "Services", Decimal("1200.00")),
    ("SUP-PREM", "Premium support (annual)", "Services", Decimal("5000.00")),
    ("MIG-DATA", "Data migration", "Services", Decimal("4500.00")),
    ("HW-SCAN-200", "Barcode scanner S200", "Hardware", Decimal("189.00")),
    ("HW-PRN-LBL", "Label printer LP-4", "Hardware", Decimal("329.00")),
    ("HW-TAB-10", "Rugged tablet 10in", "Hardware", Decimal("649.00")),
    ("HW-KIOSK", "Self-service kiosk", "Hardware", Decimal("2890.00")),
    ("HW-DOCK", "Tablet docking station", "Hardware", Decimal("119.00")),
    ("CON-LABEL-R", "Thermal label roll (box of 12)", "Consumables", Decimal("42.50")),
    ("CON-CABLE", "USB-C cable 2m", "Consumables", Decimal("12.90")),
)

# Products that go together (a kit, a rollout): most demo orders that contain one contain
# others of the same group, so the bought-together rules have something real to find.
BUNDLES = (
    ("HW-SCAN-200", "HW-PRN-LBL", "CON-LABEL-R"),
    ("HW-TAB-10", "HW-DOCK", "CON-CABLE"),
    ("CRM-SEAT-PRO", "ONB-STD", "TRN-DAY", "ANL-ADDON"),
    ("CRM-SEAT-ENT", "SUP-PREM", "MIG-DATA"),
    ("CRM-SEAT-STD", "API-PACK-1M", "HW-KIOSK"),
)
BUNDLE_SHARE = 0.8  # the chance that each further line of an order comes from its first's group

DEAL_KINDS = ("Expansion", "Renewal", "New seats", "Hardware refresh", "Services", "Pilot")

ACTIVITY_SUBJECTS = {
    "call": ("Discovery call", "Pricing follow-up call", "Check-in call", "Renewal call"),
    "email": ("Sent proposal", "Shared case study", "Answered security questions", "Quote sent"),
    "meeting": ("On-site demo", "Quarterly business review", "Kick-off meeting", "Exec sync"),
    "note": ("Budget approved next quarter", "Champion changed roles", "Competitor in play"),
}

TICKET_SUBJECTS = (
    "Cannot log in to the portal",
    "Scanner not pairing with tablet",
    "Invoice shows the wrong VAT number",
    "Label printer prints blank labels",
    "API rate limit errors",
    "Request to add five seats",
    "Data export is missing columns",
    "Delivery arrived damaged",
    "How do I reset my password?",
    "Kiosk screen flickers",
)

TASK_TITLES = (
    "Send updated quote",
    "Prepare QBR deck",
    "Follow up on proposal",
    "Book demo with IT",
    "Confirm renewal terms",
    "Introduce solutions engineer",
)

LEADS = (
    ("Paula Jimenez", "paula@brightbakery.example", "Bright Bakery", "POS tablets for 3 shops"),
    ("Victor Hale", "victor.hale@halemotors.example", "Hale Motors", "CRM for 20 sales reps"),
    ("Lena Park", "lena@parkdental.example", "Park Dental", "Appointment reminders"),
    ("George Adams", "g.adams@adamsbuild.example", "Adams Build", "Field team tablets"),
    ("Sara Quinn", "sara.quinn@quinnlaw.example", "Quinn Law", "Client intake automation"),
    ("Marco Bianchi", "marco@bianchiwines.example", "Bianchi Wines", "Label printers"),
)

# Demo conversations for the console's dashboard: (account or None for an anonymous visitor,
# channel, staff key for rep-channel chats, days ago, CSAT or None, ending, messages).
# Messages are (sender, text, outcome mark); the bot's fallback and "I don't know" replies
# carry the mark the channel stores from bot/domain.yml. Endings: "bot" (contained) or
# "resolved" (handed to an agent, who answered and closed it). No handoff is left open: the
# agents' queue of a fresh demo is empty.
_FALLBACK = (
    "Sorry, I didn't quite get that. I can check an order (e.g. \"where is my order "
    'ORD-12345?"), check or open a support ticket, or get you a person. Could you rephrase?'
)
_DONT_KNOW = (
    "I'm sorry, I don't know the answer to that, and I'd rather not guess. Would you like me "
    "to pass your question to a person?"
)
_HANDOFF = (
    "I'll get a person to help you. Someone from our team will join this conversation as soon "
    "as they can."
)
_GREET = "Hi! I'm the CRM assistant. I can check an order or a support ticket, open a ticket, or put you in touch with our sales team."  # noqa: E501
CONVERSATIONS = (
    ("Northwind Traders", "web", None, 2, 5, "bot", (
        ("user", "hi", None), ("bot", _GREET, None),
        ("user", "how do I reset my password?", None),
        ("bot", "Open the sign-in page and choose \"Forgot password\"; the link is valid for "
                "one hour.\n\nSource: Reset your password. Confidence: 91%.", None),
    )),
    ("Acme Corp", "web", None, 4, 4, "resolved", (
        ("user", "my invoice is wrong again, third time this quarter", None),
        ("bot", _FALLBACK, "fallback"),
        ("user", "I want to talk to a person", None),
        ("bot", _HANDOFF, None),
        ("agent", "Hi, this is Ines from support. I'm looking at your invoice now.", None),
        ("user", "thank you", None),
        ("agent", "Fixed: a corrected invoice is on its way to your billing contact.", None),
    )),
    ("Acme Logistics", "web", None, 6, 3, "bot", (
        ("user", "can I get a bulk discount on pallet scanners?", None),
        ("bot", _DONT_KNOW, "abstain"),
        ("user", "no thanks", None),
        ("bot", "Okay. Is there anything else I can help you with?", None),
    )),
    ("Initech", "web", None, 3, 5, "bot", (
        ("user", "how long does hardware shipping take?", None),
        ("bot", "Hardware ships within 2 business days and arrives in 3-5 days.\n\nSource: "
                "Hardware shipping. Confidence: 88%.", None),
    )),
    ("Globex Health", "web", None, 5, 5, "resolved", (
        ("user", "I need help with a refund", None),
        ("bot", "Refunds go back to the original payment method within 10 days.\n\nSource: "
                "Refunds. Confidence: 64%.", None),
        ("user", "that doesn't answer it, can I speak to someone?", None),
        ("bot", _HANDOFF, None),
        ("agent", "Hello, Jonas here. I can see the refund; it was sent yesterday.", None),
    )),
    ("Umbrella Pharma", "web", None, 1, None, "resolved", (
        ("user", "asdf qwerty", None), ("bot", _FALLBACK, "fallback"),
        ("user", "the portal keeps logging me out!!", None), ("bot", _FALLBACK, "fallback"),
        ("user", "human", None), ("bot", _HANDOFF, None),
        ("agent", "Hi, Ines here. A fix for the portal logouts went out an hour ago; please "
                  "sign in again.", None),
    )),
    ("Stark Components", "web", None, 10, 4, "bot", (
        ("user", "which payment methods do you accept?", None),
        ("bot", "Cards, bank transfer and direct debit.\n\nSource: Payment methods. "
                "Confidence: 93%.", None),
    )),
    (None, "web", None, 7, None, "bot", (
        ("user", "hi", None), ("bot", _GREET, None),
        ("user", "what are the API rate limits?", None),
        ("bot", "100 requests per minute per token.\n\nSource: API limits. Confidence: 90%.", None),
    )),
    (None, "web", None, 12, None, "bot", (
        ("user", "do you sell to schools?", None), ("bot", _DONT_KNOW, "abstain"),
    )),
    (None, "rep", "rep1", 1, None, "bot", (
        ("user", "give me a summary of Acme Corp", None),
        ("bot", "Acme Corp (active): owned by Alice Moreno.", None),
        ("user", "churn risk for Acme Corp", None),
        ("bot", "Churn risk for Acme Corp is high.", None),
    )),
    (None, "rep", "rep1", 9, None, "bot", (
        ("user", "what deals close this quarter?", None),
        ("bot", "You have open deals closing this quarter.", None),
        ("user", "tell me a joke", None), ("bot", _FALLBACK, "fallback"),
    )),
    (None, "rep", "rep2", 3, None, "bot", (
        ("user", "show my open deals", None),
        ("bot", "Here are your open deals.", None),
    )),
)  # fmt: skip
