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
