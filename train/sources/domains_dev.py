"""Dev-only domains of the generator: vet visits, library loans, workouts, utility bills and car
service. Training never sees these domains, so dev schemas built from them have property names
and field combinations that no training schema has.

Each :class:`~train.sources.domains.Domain` lists candidate fields with the words a schema may
name them by, the labels and clauses a text uses for them, and candidate descriptions.
"""

from __future__ import annotations

from .domains import Domain, date, domain, money, person, phone, pool
from .fields import f

__all__ = ["DEV_ONLY_DOMAINS"]

DEV_ONLY_DOMAINS: tuple[Domain, ...] = (
    domain("vet_appointment", "VET VISIT|Pet appointment|Animal clinic", "Appointment for "
           "your pet|Vet booking|Vaccination reminder", "Your pet's visit is booked.|Booking "
           "for my dog.|Vet appointment.", "Bring the vaccination booklet.|See you and your "
           "pet soon.|Thanks.", [
               f("pet_name", "text", "animal name|name of pet|pet", "Pet|Name|Patient",
                 "{v} is coming in|for {v}|our pet {v}", "Name of the animal|e.g. {ex}",
                 pool=pool("Bella|Max|Luna|Charlie|Milo|Coco|Rocky|Nala|Oscar|Pepper")),
               f("species", "enum", "animal|kind|animal type", "Species|Animal", "a {v}|our "
                 "{v}", "Kind of animal", members="dog=puppy/canine|cat=kitten/feline|rabbit="
                 "bunny|bird=parrot"),
               person("owner_name", "owner", "Owner|Client|Owner name", "owner {v}|{v} owns",
                      names="owner|client|guardian"),
               phone("owner_phone", "owner", "Phone|Owner phone|Tel."),
               date("visit_date", "date|appointment date|visit", "Date|Visit|On", "on {v}|"
                    "booked for {v}", "Day of the visit", 1, 25),
               f("visit_time", "time", "time|slot", "Time|Slot", "at {v}|slot {v}",
                 "Time of the visit"),
               f("weight_kg", "measure", "weight|body weight", "Weight|Wt.", "weighing {v}|"
                 "{v} at last check", "Body weight in kg", lo=1, hi=45, dec=1,
                 units=" kg|kg"),
               f("vaccination_due", "bool", "needs vaccine|vaccine due|shots due", "Vaccine "
                 "due|Shots", "vaccines are due|shots are due", "Whether vaccination is due",
                 neg="vaccines are up to date|no shots due"),
               f("reason", "text", "visit reason|complaint|why", "Reason|Problem", "because of "
                 "{v}|for {v}", "Why the pet comes", pool=pool(
                     "limping|annual check|ear infection|dental cleaning|not eating|skin "
                     "itching")),
               money("fee", "cost|price|consultation fee", "Fee|Cost", "the fee is {v}|costs "
                     "{v}", "Consultation fee", 30, 400),
           ], writer="owner_name"),
    domain("library_loan", "LIBRARY|Loan receipt|Checkout", "Items due soon|Your loan|Overdue "
           "notice", "Thanks for visiting the library.|Your checkout.|Loan reminder.",
           "Renew online any time.|Happy reading!|Library hours apply.", [
               f("book_title", "text", "title|item|book", "Title|Item|Book", "\"{v}\" was "
                 "borrowed|the book {v}", "Title of the book|e.g. {ex}", pool=pool(
                     "The Silent Harbor|A Short History of Maps|Gardens of Stone|Learning SQL|"
                     "The Night Orchard|Baking Bread at Home|Stars Over Lisbon")),
               person("author", "author", "Author|By|Writer", "by {v}|{v} wrote it",
                      names="writer|author name|by"),
               f("isbn", "text", "isbn13|isbn number", "ISBN", "ISBN {v}", "ISBN of the "
                 "edition|e.g. {ex}", pattern="978-#-###-#####-#|978##########"),
               person("borrower", "borrower", "Borrower|Patron|Member", "borrowed by {v}|"
                      "patron {v}", names="patron|member name|reader"),
               f("card_number", "text", "library card|member number|card", "Card|Card no.|"
                 "Member no.", "card {v}|on card {v}", "Library card number", pattern="LIB-"
                 "######|##########|P#######", terse="card"),
               date("loan_date", "borrowed on|checkout date|issued", "Borrowed|Checked out",
                    "borrowed {v}|checked out {v}", "Day of checkout", -20, -1),
               date("due_date", "return by|due|due back", "Due|Return by|Due back", "due back "
                    "{v}|return it by {v}", "Last day to return", 1, 25, terse="due"),
               money("fine", "late fee|fine owed|penalty", "Fine|Late fee|Owed", "a fine of {v}"
                     "|{v} in late fees", "Late fee owed", 1, 30),
               f("renewed", "bool", "was renewed|renewal|extended", "Renewed|Renewal",
                 "it has been renewed|the loan was extended", "Whether the loan was renewed",
                 neg="not renewed yet|no renewal so far"),
               f("renewals_left", "int", "renewals remaining|renewals", "Renewals left",
                 "{v} renewals left|you can renew {v} more times", "Renewals still allowed",
                 lo=0, hi=3),
           ], writer="borrower"),
    domain("fitness_log", "WORKOUT|Activity summary|Training log", "Your workout summary|"
           "Weekly activity|New personal best", "Great job today!|Workout logged.|Activity "
           "summary.", "Keep it up!|Rest well.|See you tomorrow.", [
               f("activity", "enum", "workout type|sport|exercise", "Activity|Workout|Sport",
                 "went for a {v}|a {v} session", "Kind of workout", members="run=jog/running|"
                 "ride=cycling/bike ride|swim=swimming/laps|walk=hike|strength=weights/gym"),
               date("date", "day|workout date|on", "Date|Day", "on {v}|logged {v}",
                    "Day of the workout", -6, 0),
               f("duration_min", "int", "duration|minutes|time", "Duration|Time|Min",
                 "for {v} minutes|lasting {v} min", "Workout length in minutes", lo=10,
                 hi=180, terse="dur"),
               f("distance_km", "measure", "distance|km|kilometers", "Distance|Dist.",
                 "covering {v}|{v} in total", "Distance in kilometres", lo=1, hi=60, dec=2,
                 units=" km|km| kilometers", terse="dist"),
               f("calories", "int", "kcal|energy|calories burned", "Calories|kcal|Energy",
                 "burning {v} kcal|{v} calories", "Calories burned", lo=80, hi=1800,
                 terse="kcal"),
               f("avg_heart_rate", "int", "heart rate|avg hr|pulse", "Avg HR|Heart rate|"
                 "Pulse", "average heart rate {v} bpm|pulse around {v}", "Mean heart rate in "
                 "bpm", lo=90, hi=185, terse="hr"),
               f("personal_best", "bool", "pb|record|new record", "PB|Personal best",
                 "that's a new personal best|a new record", "Whether it is a personal record",
                 neg="no record this time|not a PB"),
               f("route", "text", "course|track|path", "Route|Course", "along {v}|on the {v}",
                 "Route name", pool=pool("River Loop|Hill Circuit|Park Run 5K|Harbour Path|"
                                         "Forest Trail|Track 400m")),
               f("feeling", "enum", "effort|mood|rpe", "Feeling|Effort", "it felt {v}|effort "
                 "{v}", "How hard it felt", members="easy=light/relaxed|moderate=steady/ok|"
                 "hard=tough/brutal"),
           ]),
    domain("utility_bill", "UTILITY BILL|Energy statement|Account statement", "Your bill is "
           "ready|New statement|Payment due", "Your latest bill is ready.|Statement summary."
           "|Energy usage this period.", "Pay online or by direct debit.|Thank you for being a "
           "customer.|Questions? Call us.", [
               f("account_number", "text", "account|customer number|acct no", "Account|"
                 "Account no.|Customer no.", "account {v}|for account {v}", "Customer "
                 "account number|e.g. {ex}", pattern="##########|AC-######|###-####-###",
                 terse="acct"),
               person("customer", "customer", "Customer|Account holder|Name", "account holder "
                      "{v}|for {v}", names="account holder|customer name|name"),
               date("period_start", "from|billing start|start", "From|Period start",
                    "from {v}|starting {v}", "First day billed", -60, -31),
               date("period_end", "to|billing end|end", "To|Period end", "to {v}|through {v}",
                    "Last day billed", -30, -1),
               money("amount_due", "total due|balance|amount", "Amount due|Total|Balance",
                     "you owe {v}|the amount due is {v}", "Amount to pay", 20, 600,
                     terse="due_amt"),
               date("due_date", "pay by|due|payment date", "Due|Pay by", "due {v}|pay by "
                    "{v}", "Payment deadline", 5, 25),
               f("usage_kwh", "measure", "consumption|energy used|kwh", "Usage|Consumption",
                 "you used {v}|consumption was {v}", "Energy used in kWh", lo=50, hi=2500,
                 dec=1, units=" kWh|kWh", terse="kwh"),
               f("plan", "enum", "tariff|rate plan|product", "Plan|Tariff", "on the {v} plan|"
                 "{v} tariff", "Tariff name", members="basic=starter|standard=regular|"
                 "premium=plus/green premium"),
               f("autopay", "bool", "direct debit|auto pay|autopay on", "Direct debit|"
                 "Autopay", "it will be paid by direct debit|autopay is on", "Whether it is "
                 "paid automatically", neg="please pay manually|autopay is off"),
               f("charges", "rows", "line items|bill items|breakdown", "Charges|Breakdown",
                 "the bill is made up of {v}|charges: {v}", "Itemised charges|One entry per "
                 "charge", neg="no separate charges listed|no breakdown given",
                 row="{label}: {amount}|{label} {amount}|{amount} for {label}",
                 subs=(f("label", "text", "description|item|charge", "Charge", core=True,
                         pool=pool("standing charge|energy usage|network fee|late fee|"
                                   "meter rental|green levy|discount refund")),
                       money("amount", "cost|price|value", "Amount", "", "", 1, 200))),
               f("meter_id", "text", "meter|meter number", "Meter|Meter no.", "meter {v}",
                 "Meter serial", pattern="M-########|##@#####", terse="meter"),
           ]),
    domain("vehicle_service", "SERVICE RECORD|Workshop invoice|Car service", "Your car is "
           "ready|Service booking|Maintenance report", "Your vehicle has been serviced.|"
           "Booking a service.|Workshop report.", "Drive safely.|Next service in 12 months.|"
           "Thanks for choosing us.", [
               f("plate", "text", "license plate|registration|reg", "Reg|Plate|Registration",
                 "registration {v}|plate {v}", "Vehicle plate|e.g. {ex}", pattern="@@## @@@|"
                 "@-@@ ####|###-@@@|@@@ ###"),
               f("make", "text", "brand|manufacturer", "Make|Brand", "a {v}|the {v}",
                 "Manufacturer", pool=pool("Toyota|Ford|Volkswagen|Honda|BMW|Renault|Kia|"
                                           "Skoda|Subaru")),
               f("model_year", "int", "year|model year|built", "Year|MY", "from {v}|a {v} "
                 "model", "Model year", lo=2005, hi=2024, nosep=True, terse="yr"),
               f("mileage", "int", "odometer|km|miles", "Mileage|Odometer|KM", "with {v} on "
                 "the clock|at {v}", "Odometer reading", lo=2000, hi=240000,
                 units=" km| mi| miles|"),
               date("service_date", "date|serviced on|workshop date", "Date|Serviced",
                    "serviced {v}|on {v}", "Day of the service", -10, 0),
               f("service_type", "enum", "job|work done|service", "Service|Job", "a {v}|did "
                 "the {v}", "Kind of service", members="oil change=oil service|inspection=MOT/"
                 "safety check|tire change=tyre swap/tyres|brake repair=brakes"),
               money("cost", "total|price|amount", "Total|Cost|Amount", "it cost {v}|total "
                     "{v}", "Total cost", 40, 2500),
               person("technician", "technician", "Technician|Mechanic|Tech", "done by {v}|"
                      "{v} worked on it", names="mechanic|tech|serviced by"),
               date("next_service", "next due|next service date|due", "Next service|Due",
                    "next service {v}|due again {v}", "When the next service is due", 150,
                    400),
               f("parts", "list", "parts replaced|components|parts used", "Parts|Replaced",
                 "replaced {v}|new {v}", "Parts that were replaced", neg="no parts "
                 "replaced|no parts needed", pool=pool("oil filter|air filter|brake pads|"
                                                       "wiper blades|spark plugs|battery")),
           ]),
)
