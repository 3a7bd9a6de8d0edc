"""Office and commerce domains of the generator: invoices, contacts, tickets, orders, receipts,
job posts, bank transactions, expenses, onboarding, shipping, products, listings and returns.

Each :class:`~train.sources.domains.Domain` lists candidate fields with the words a schema may
name them by, the labels and clauses a text uses for them, and candidate descriptions.
"""

from __future__ import annotations

from .domains import (
    LINE_ITEMS,
    PRODUCTS,
    SKILLS,
    TAGS,
    Domain,
    address,
    currency,
    date,
    domain,
    email,
    money,
    person,
    phone,
    pool,
)
from .fields import f

__all__ = ["WORK_DOMAINS"]

WORK_DOMAINS: tuple[Domain, ...] = (
    domain("invoice", "INVOICE|Invoice|Tax invoice", "Invoice attached|Your invoice|"
       "Payment reminder|"
       "Invoice for last month", "Please find the invoice details below.|Here is your invoice.|"
       "Thanks for your business.", "Let us know if anything looks off.|Thank you.|"
       "Payment details are on our website.", [
           f("invoice_number", "text", "invoice id|invoice no|invoice ref", "Invoice #|Inv. No.|"
             "Invoice number|Invoice|Invoice ID", "invoice {v} was issued|this is invoice {v}|"
             "our invoice {v} covers it", "Invoice identifier|Number printed on the invoice|"
             "e.g. {ex}", terse="inv_no", verbose="invoice reference number",
             pattern="INV-####|INV-2025-###|#####|IN####|A-####-##"),
           person("customer_name", "customer", "Bill to|Customer|Client|Billed to", "billed to {v}|"
                  "the customer is {v}|{v} is the client on file"),
           email("customer_email", "customer", "Email|Customer email|Billing email",
                 owner="customer_name"),
           date("issue_date", "invoice date|issued on|date issued", "Invoice date|Issued|Date",
                "it was issued on {v}|dated {v}", "Date the invoice was issued", -20, 0),
           date("due_date", "payment due|due by|due", "Due date|Payment due|Due", "payment is due "
                "by {v}|please pay by {v}|due on {v}", "When payment is due|Last day to pay", 5,
                45),
           money("total", "total amount|amount due|grand total", "Total|Amount due|TOTAL DUE|"
                 "Grand total", "the total comes to {v}|the amount due is {v}|{v} in total",
                 "Total amount due, in the invoice currency|Amount to pay", 40, 9000,
                 terse="amt", verbose="total amount due"),
           money("subtotal", "net amount|sub total", "Subtotal|Net|Sub-total", "the subtotal is "
                 "{v}|{v} before tax", "Amount before tax", 30, 8000),
           money("tax", "tax amount|vat|sales tax", "Tax|VAT|Sales tax", "tax is {v}|{v} of VAT",
                 "Tax charged", 2, 900),
           currency(),
           f("paid", "bool", "is paid|payment received|settled", "Paid|Payment status|Status",
             "it has already been paid|payment was received, thanks|it's settled", "Whether the "
             "invoice has been paid|True once payment arrived", neg="it is still unpaid|payment is "
             "outstanding|we have not received payment yet", yes="paid|PAID|yes|settled",
             no="unpaid|not paid|outstanding|no"),
           LINE_ITEMS,
           address("billing_address", "billing", "Billing address|Bill-to address|Address",
                   "the billing address is {v}|send paper copies to {v}"),
           f("payment_method", "enum", "pay method|payment type", "Payment method|Pay by|Method",
             "payment by {v}|they will pay with {v}|paid via {v}", "How the customer pays",
             members="card=credit card/Visa/Mastercard|bank transfer=wire/bank wire/SEPA transfer|"
                     "cash|paypal=PayPal account", terse="pay_method"),
           f("po_number", "text", "purchase order|po|purchase order number", "PO #|PO number|"
             "Purchase order", "it refers to purchase order {v}|PO {v} applies",
             "Customer's purchase order reference|e.g. {ex}", terse="po", pattern="PO-#####|"
             "PO####|4500######"),
       ]),
    domain("contact", "Contact card|CONTACT|Business card|New contact", "Contact details|New lead|"
       "Our new supplier contact|Intro", "Here are the contact details.|Adding a new contact.|"
       "Met this person at the fair.", "Feel free to reach out.|Saved to the CRM.|Cheers.", [
           person("full_name", "contact", "Name|Full name|Contact", "the contact is {v}|{v} is "
                  "the person to talk to|my name is {v}", names="name|contact name|person",
                  group="name", terse="name"),
           f("first_name", "first_name", "given name|forename|first", "First name|Given name",
             "first name {v}|goes by {v}", "Given name only|e.g. {ex}", group="name",
             terse="fname"),
           f("company", "company", "organization|employer|company name|org",
             "Company|Organization|Employer|Org", "works at {v}|is with {v}|represents {v}",
             "Company the person works for|Employer|e.g. {ex}", verbose="employer company name"),
           f("job_title", "job", "title|position|role", "Title|Position|Role|Job title",
             "works as {v}|the role is {v}|{v} by trade", "Job title|Position in the company",
             terse="title"),
           email("email", "contact", "Email|E-mail|Mail", owner="full_name"),
           phone("phone", "contact", "Phone|Tel|Office phone"),
           phone("mobile", "contact", "Mobile|Cell|Mob.", "mobile {v}|cell is {v}|text {v}",
                 names="mobile phone|cell|cell phone"),
           f("website", "url", "web site|homepage|url", "Web|Website|Site", "the website is {v}|"
             "see {v}", "Company website|Homepage URL", terse="url"),
           address("address", "contact", "Address|Office|Mailing address", "the office is at {v}"
                   "|mail goes to {v}"),
           date("birthday", "date of birth|birth date|dob", "Birthday|DOB|Born",
                "born {v}|birthday on {v}", "Date of birth", -20000, -7000, terse="dob"),
           f("preferred_contact", "enum", "contact preference|preferred channel", "Prefers|"
             "Preferred contact|Best way to reach", "prefers {v}|best reached by {v}",
             "How the person likes to be contacted", members="email=e-mail/mail|phone=call/"
             "phone call|sms=text/text message", terse="pref"),
       ], writer="full_name"),
    domain("ticket", "Support ticket|TICKET|Helpdesk request|Incident", "Problem with my account|"
       "Help needed|Issue report|Re: support request", "Hi support team,|Hello,|Reporting an "
       "issue.", "Thanks in advance.|Please advise.|Any help appreciated.", [
           f("ticket_id", "text", "ticket number|ticket|case id|issue id", "Ticket|Ticket #|Case|"
             "ID", "this is ticket {v}|case {v} was opened|ref {v}", "Identifier of the ticket|"
             "e.g. {ex}", terse="tkt", pattern="T-##|T-####|CS-#####|#####|INC######|HD-###"),
           f("subject", "text", "summary|title|issue", "Subject|Summary|Issue|Title", "the issue "
             "is: {v}|summary: {v}|reported \"{v}\"", "One-line summary of the issue|Short title",
             pool=pool("Login page keeps timing out|Charged twice for one order|App crashes on "
                        "startup|Cannot reset password|Export to CSV is empty|Refund not received"
                        "|Invoice shows wrong address|Sync fails on Android|Order stuck in "
                        "processing|Two-factor code never arrives|Dashboard loads very slowly")),
           f("priority", "enum", "prio|urgency|level", "Priority|Prio|Urgency", "priority is {v}|"
             "marked {v}|it's {v} priority", "How urgent the ticket is|Priority level",
             members="low=P3/minor/not urgent|medium=P2/normal/moderate|high=P1/urgent/critical"),
           f("status", "enum", "state|ticket status", "Status|State", "status is {v}|currently "
             "{v}", "Current state of the ticket", members="open=new/opened|pending=waiting/"
             "on hold|resolved=fixed/done|closed=archived"),
           person("reporter_name", "reporter", "Reported by|From|Customer|Requester", "reported "
                  "by {v}|{v} opened it|this is {v} writing", names="requester|customer name|"
                  "reporter", group="name"),
           email("reporter_email", "reporter", "Email|Reply-to|Contact",
                 owner="reporter_name"),
           f("product", "text", "product name|app|service", "Product|App|Service", "it affects "
             "{v}|in {v}|using {v}", "Product the issue is about", pool=pool(
                 "Acme Cloud|PayFlow|TaskBoard Pro|ShopSmart app|MailPilot|Router X200|"
                 "SmartThermo 3|Ledger Online|FitTrack watch")),
           f("category", "enum", "type|area|topic", "Category|Type|Area", "category {v}|"
             "it's a {v} question|filed under {v}", "Kind of request", members="billing=payment/"
             "invoice|technical=bug/tech|account=login/profile|shipping=delivery"),
           date("created_date", "opened on|created|date opened", "Created|Opened|Date",
                "opened on {v}|created {v}", "Date the ticket was opened", -10, 0),
           person("assignee", "agent", "Assigned to|Agent|Owner", "assigned to {v}|{v} is "
                  "handling it", names="assigned to|owner|agent name"),
           f("tags", "list", "labels|keywords", "Tags|Labels", "tagged {v}|labels: {v}",
             "Free-form labels|Keywords for search", neg="no tags yet|it has no labels",
             pool=TAGS),
           f("order_reference", "text", "order number|order id|order", "Order|Order #|Order ref",
             "about order {v}|my order {v}", "Related order, if any", pattern="ORD-#####|"
             "#########|A##-######"),
       ], writer="reporter_name"),
    domain("order", "ORDER CONFIRMATION|Order|Purchase order", "Your order is confirmed|Order "
           "received|Re: my order", "Thanks for shopping with us.|We received your order.|Order "
           "summary below.", "We will email you when it ships.|Happy shopping!|Questions? Just "
           "reply.", [
               f("order_id", "text", "order number|order no|order ref", "Order #|Order|Order no.|"
                 "Order ID", "order {v} is confirmed|your order {v} was placed|ref {v}",
                 "Order identifier|e.g. {ex}", terse="ord_no", pattern="ORD-#####|#######|"
                 "@@-######|#####-##"),
               person("customer_name", "customer", "Customer|Ship to|Name|Buyer",
                      "ordered by {v}|{v} placed the order|for {v}", names="buyer|customer|"
                      "buyer name"),
               email("customer_email", "customer", "Email|Customer email|"
                     "Confirmation sent to", owner="customer_name"),
               date("order_date", "placed on|date ordered|purchase date", "Order date|Placed|"
                    "Date", "placed on {v}|ordered {v}", "Date the order was placed", -15, 0),
               LINE_ITEMS,
               f("shipping_method", "enum", "delivery method|shipping|ship via", "Shipping|"
                 "Delivery|Ship via", "shipping is {v}|sent by {v}|{v} delivery",
                 "How the order is delivered", members="standard=regular/ground|express=expedited"
                 "/2-day|overnight=next day/next-day|pickup=in-store pickup/collect in store"),
               money("total", "order total|amount|total paid", "Total|Order total|Amount charged",
                     "the total is {v}|we charged {v}|{v} was charged", "Total charged for the "
                     "order|Order total including shipping", 10, 3000, terse="amt"),
               f("discount_code", "text", "coupon|promo code|voucher", "Coupon|Promo code|"
                 "Discount code", "coupon {v} was applied|using promo {v}", "Promo code used|"
                 "e.g. {ex}", pattern="SAVE##|WELCOME#|SPRING@@##|VIP-####", terse="promo"),
               address("shipping_address", "shipping", "Shipping address|Deliver to|Delivery "
                       "address",
                       "it ships to {v}|deliver to {v}"),
               f("gift_wrap", "bool", "gift wrapped|is gift|gift wrapping", "Gift wrap|Gift",
                 "gift wrapping was added|it's wrapped as a gift", "Whether gift wrap was "
                 "requested", neg="no gift wrap|it is not a gift", yes="yes|Y|[x]|added",
                 no="no|N|[ ]|none"),
               f("status", "enum", "order status|state", "Status|Order status", "it is {v}|"
                 "status: {v}", "Current order status", members="processing=being prepared/"
                 "in progress|shipped=dispatched/on its way|delivered=arrived|cancelled=canceled"
                 "/void"),
           ], writer="customer_name"),
    domain("receipt", "RECEIPT|SALES RECEIPT|Receipt|Till receipt", "Your receipt|E-receipt|"
           "Receipt for your purchase", "Thank you for shopping!|Here is your receipt.|"
           "Customer copy.", "Please keep this receipt.|Returns within 30 days.|Have a nice day!",
           [
               f("store_name", "text", "store|merchant|shop|vendor", "Store|Shop|Merchant",
                 "bought at {v}|from {v}|{v} receipt", "Name of the shop|Merchant name",
                 pool=pool("Green Grocer|Corner Market|Acme Hardware|City Pharmacy|Bean & Leaf "
                           "Cafe|TechWorld|Book Nook|FreshMart|Oak Street Deli|PetPlanet"),
                 terse="store"),
               f("receipt_number", "text", "receipt no|transaction number|receipt id",
                 "Receipt #|Trans.|Receipt no|TXN", "receipt {v}|transaction {v}",
                 "Receipt identifier|e.g. {ex}", pattern="R-######|####-###-####|#########",
                 terse="rcpt_no"),
               date("date", "purchase date|transaction date|sale date", "Date|Sale date",
                    "on {v}|dated {v}", "Date of purchase", -5, 0),
               f("time", "time", "purchase time|transaction time", "Time|At", "at {v}|"
                 "rung up at {v}", "Time printed on the receipt"),
               LINE_ITEMS,
               money("subtotal", "sub total|net", "Subtotal|SUBTOTAL|Net", "subtotal {v}|{v} "
                     "before tax", "Amount before tax", 3, 400),
               money("tax", "tax amount|vat", "Tax|VAT|Sales tax", "tax {v}|{v} tax",
                     "Tax charged", 1, 40),
               money("total", "total paid|amount|grand total", "Total|TOTAL|Amount paid",
                     "total {v}|you paid {v}|{v} in total", "Total paid", 4, 450),
               f("payment_method", "enum", "tender|paid with|payment type", "Payment|Tender|"
                 "Paid by", "paid by {v}|tendered {v}", "How it was paid",
                 members="cash|card=credit card/debit card/VISA|mobile=Apple Pay/Google Pay/"
                         "contactless", terse="tender"),
               f("card_last4", "text", "card last four|last 4 digits|card ending", "Card|"
                 "Card ending|XXXX", "card ending {v}|on the card ending in {v}", "Last four "
                 "digits of the card", pattern="####", terse="last4"),
               person("cashier", "cashier", "Cashier|Served by|Clerk", "served by {v}|cashier "
                      "{v}", names="clerk|served by|cashier name"),
           ]),
    domain("job_posting", "JOB OPENING|Job post|We're hiring|Vacancy", "We're hiring|New role "
           "open|Job opening", "We are growing!|Join our team.|New opening.", "Apply today.|"
           "We look forward to hearing from you.|Referrals welcome.", [
               f("job_title", "job", "title|position|role", "Position|Role|Job title|Title",
                 "we are hiring a {v}|looking for a {v}|the role is {v}", "Title of the "
                 "position|e.g. {ex}", terse="title"),
               f("company", "company", "employer|hiring company|organization", "Company|"
                 "Employer", "{v} is hiring|at {v}|join {v}", "Hiring company", terse="co"),
               f("location", "city", "city|office location|based in", "Location|City|Based in",
                 "based in {v}|the office is in {v}", "City of the job", terse="loc"),
               f("employment_type", "enum", "job type|contract type|type", "Type|Contract|"
                 "Employment", "it's a {v} role|{v} position|{v} contract", "Kind of contract",
                 members="full-time=full time/permanent|part-time=part time|contract=freelance/"
                         "fixed-term|internship=intern/trainee", terse="emp_type"),
               money("salary_min", "minimum salary|salary from|pay min", "Salary from|Min "
                     "salary|From", "pay starts at {v}|from {v} a year", "Lower end of the "
                     "yearly salary", 30000, 70000, integer=True, terse="sal_min"),
               money("salary_max", "maximum salary|salary up to|pay max", "Salary up to|Max "
                     "salary|Up to", "up to {v}|pay tops out at {v}", "Upper end of the yearly "
                     "salary", 71000, 160000, integer=True, terse="sal_max"),
               f("remote", "bool", "remote ok|is remote|work from home", "Remote|WFH|Remote "
                 "work", "remote work is possible|you can work from home", "Whether remote work "
                 "is allowed", neg="the role is on-site only|no remote option",
                 yes="yes|Remote OK|allowed|Y", no="no|On-site|not allowed|N"),
               f("experience_years", "int", "years of experience|min experience|experience",
                 "Experience|Years exp.|Min. experience", "with {v} years of experience|"
                 "at least {v} years in the field", "Minimum years of experience", lo=1, hi=10,
                 terse="yrs_exp"),
               f("skills", "list", "required skills|requirements|skill set", "Skills|"
                 "Requirements|Must have", "you know {v}|skills: {v}", "Skills a candidate "
                 "needs", neg="no specific skills required|no prior skills needed", pool=SKILLS),
               email("contact_email", "recruiter", "Apply to|Contact|Email CV to", "send your "
                     "CV to {v}|apply at {v}"),
               date("application_deadline", "deadline|apply by|closing date", "Apply by|Closing "
                    "date|Deadline", "apply by {v}|applications close {v}", "Last day to apply",
                    10, 60, terse="deadline"),
           ]),
    domain("bank_transaction", "TRANSACTION|Account activity|Payment notice", "Transaction "
           "alert|New card payment|Account notification", "A new transaction was posted.|"
           "Activity on your account.", "If you don't recognise this, call us.|No action needed."
           "|This is an automated message.", [
               f("transaction_id", "text", "txn id|reference|transaction ref", "Ref|Transaction "
                 "ID|TXN|Reference", "reference {v}|transaction {v}", "Bank reference of the "
                 "transaction|e.g. {ex}", pattern="TX########|########-####|xxxxxxxx|"
                 "xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx",
                 terse="txn_id"),
               date("date", "posted on|booking date|value date", "Date|Posted|Booked",
                    "posted on {v}|on {v}", "Date the transaction was booked", -7, 0),
               money("amount", "value|sum|transaction amount", "Amount|Sum|Value", "an amount "
                     "of {v}|{v} was moved", "Amount of the transaction|Absolute value, no "
                     "sign", 1, 5000, terse="amt"),
               currency(),
               f("merchant", "company", "payee|counterparty|merchant name", "Merchant|Payee|To",
                 "paid to {v}|at {v}|from {v}", "Who was paid|Counterparty name"),
               f("account", "text", "account number|iban|account no", "Account|Acct|IBAN",
                 "on account {v}|from account {v}", "Account the money left|e.g. {ex}",
                 pattern="****####|DE## #### #### #### #### ##|GB##@@@@########", terse="acct"),
               f("type", "enum", "direction|kind|transaction type", "Type|Dir.|Kind", "it was a "
                 "{v}|{v} entry", "Debit or credit", members="debit=withdrawal/outgoing/DR|"
                 "credit=deposit/incoming/CR", terse="dir"),
               f("category", "enum", "spending category|budget category", "Category|Cat.",
                 "categorised as {v}|{v} spending", "Budget category",
                 members="groceries=food/supermarket|travel=transport/flights|utilities=bills|"
                         "dining=restaurants/eating out|shopping=retail"),
               money("balance_after", "balance|new balance|running balance", "Balance|New "
                     "balance|Avail. balance", "your new balance is {v}|leaving {v}",
                     "Account balance after the transaction", 50, 20000, terse="bal"),
               f("pending", "bool", "is pending|not yet booked|processing", "Pending|Status",
                 "it is still pending|not final yet", "True until the bank books it",
                 neg="it has cleared|it's final", yes="pending|yes|processing", no="cleared|no|"
                 "booked"),
           ]),
    domain("expense_report", "EXPENSE CLAIM|Expense report|Reimbursement request", "Expense "
           "claim|Reimbursement|Receipts from my trip", "Submitting an expense.|Please "
           "reimburse the following.|Expense claim below.", "Receipt attached.|Thanks, finance."
           "|Let me know if you need more.", [
               person("employee", "employee", "Employee|Claimant|Submitted by", "submitted by "
                      "{v}|{v} is claiming|this is {v}", names="claimant|employee name|staff "
                      "member"),
               date("expense_date", "date|spent on|date incurred", "Date|Incurred|Spent on",
                    "spent on {v}|incurred {v}", "When the cost was incurred", -30, -1),
               money("amount", "cost|total|sum", "Amount|Total|Cost", "it cost {v}|{v} in total"
                     "|a claim of {v}", "Amount claimed", 5, 1500, terse="amt"),
               currency(),
               f("category", "enum", "expense type|type|kind", "Category|Type", "it's a {v} "
                 "expense|filed as {v}", "Expense category", members="meals=food/dinner/lunch|"
                 "travel=taxi/train/airfare|lodging=hotel/accommodation|office=supplies"),
               f("merchant", "company", "vendor|paid to|supplier", "Vendor|Merchant|Paid to",
                 "paid to {v}|bought from {v}", "Where the money was spent"),
               f("project_code", "text", "project|cost center|charge code", "Project|Cost "
                 "center|Charge to", "charge it to {v}|project {v}", "Project to charge|e.g. "
                 "{ex}", pattern="PRJ-###|CC-####|@@-##", terse="proj"),
               f("reimbursable", "bool", "billable|to reimburse|refundable", "Reimbursable|"
                 "Billable", "it should be reimbursed|it is billable", "Whether the company "
                 "pays it back", neg="it is not reimbursable|no reimbursement needed",
                 yes="yes|Y|billable", no="no|N|non-billable"),
               f("receipt_attached", "bool", "has receipt|receipt", "Receipt|Receipt attached",
                 "the receipt is attached|receipt included", "True if a receipt is attached",
                 neg="I lost the receipt|no receipt, sorry", yes="yes|attached|[x]",
                 no="no|missing|[ ]"),
               f("purpose", "text", "reason|description|business purpose", "Purpose|Reason|"
                 "Note", "it was for {v}|purpose: {v}", "Business reason for the cost",
                 pool=pool("client dinner|team offsite|conference travel|new monitor|training "
                           "course|customer visit|trade fair booth"), terse="desc"),
           ], writer="employee"),
    domain("onboarding", "NEW HIRE|Onboarding form|Employee record", "New starter|Welcome "
           "aboard|Onboarding details", "Please set up the new hire.|A new colleague joins us."
           "|Onboarding request.", "Thanks, HR.|Please confirm when done.|Welcome them!", [
               person("employee_name", "employee", "Name|Employee|New hire", "the new hire is "
                      "{v}|{v} joins us|welcome {v}", names="name|new hire|staff name"),
               f("employee_id", "text", "staff id|employee number|badge", "Employee ID|Staff "
                 "no.|Badge", "employee number {v}|badge {v}", "HR identifier|e.g. {ex}",
                 pattern="E#####|EMP-####|######", terse="emp_id"),
               f("department", "enum", "team|dept|unit", "Department|Team|Dept.", "joining "
                 "{v}|in the {v} team", "Department the person joins",
                 members="engineering=dev/R&D|sales=business development|finance=accounting|"
                         "hr=people/human resources|support=customer care"),
               date("start_date", "first day|starts on|joining date", "Start date|First day|"
                    "Starts", "starting {v}|first day is {v}", "First working day", 3, 40),
               person("manager", "manager", "Manager|Reports to|Line manager", "reporting to "
                      "{v}|{v} is the manager", names="reports to|line manager|supervisor"),
               email("work_email", "employee", "Work email|Email|Company email", "work email "
                     "{v}|mailbox {v}", owner="employee_name"),
               money("salary", "annual salary|base pay|pay", "Salary|Base|Annual pay", "on a "
                     "salary of {v}|paid {v} a year", "Gross yearly salary", 28000, 140000,
                     integer=True, terse="sal"),
               f("laptop_required", "bool", "needs laptop|laptop|equipment needed", "Laptop|"
                 "Equipment", "they need a laptop|please order a laptop", "Whether IT must "
                 "provide a laptop", neg="they bring their own laptop|no laptop needed"),
               f("office_location", "city", "office|site|work location", "Office|Site|Based at",
                 "working from the {v} office|based in {v}", "City of the office", terse="site"),
               phone("phone", "employee", "Phone|Mobile|Contact"),
               f("emergency_contact", "object", "emergency|ice contact|next of kin",
                 "Emergency contact|ICE|Next of kin", "in an emergency call {v}|emergency "
                 "contact is {v}", "Who to call in an emergency|Emergency contact person",
                 terse="ice", verbose="emergency contact person", row="{name} ({phone})|"
                 "{name}, {relation}, {phone}|{name} ({relation}) {phone}|{name}, {relation}",
                 subs=(f("name", "person", "full name|contact name", "Name", core=True),
                       f("phone", "phone", "phone number|tel", "Phone", terse="tel"),
                       f("relation", "text", "relationship|relation to employee", "Relation",
                         pool=pool("spouse|partner|mother|father|sister|brother|friend")))),
           ]),
    domain("shipping_notice", "SHIPPING NOTICE|Dispatch note|Shipment update", "Your package is "
           "on the way|Shipment notification|Delivery update", "Good news, your parcel has "
           "shipped.|Shipment details.|Your package is moving.", "Track it any time online.|"
           "Thanks for your patience.|Do not reply to this email.", [
               f("tracking_number", "text", "tracking|tracking id|tracking code", "Tracking #|"
                 "Tracking|Track no.", "tracking number {v}|track it with {v}", "Carrier "
                 "tracking number|e.g. {ex}", pattern="1Z###@@#########|94001#################"
                 "|JD##########|#### #### ####", terse="trk"),
               f("carrier", "enum", "shipping carrier|courier|shipper", "Carrier|Courier|Via",
                 "shipped with {v}|{v} will deliver it", "Delivery company",
                 members="UPS=United Parcel Service|FedEx=Federal Express|DHL=DHL Express|"
                         "USPS=US Postal Service/postal service"),
               f("order_number", "text", "order|order id|order ref", "Order|Order #|Ref",
                 "for order {v}|order {v} shipped", "Order the parcel belongs to",
                 pattern="ORD-#####|#######", terse="ord"),
               date("ship_date", "shipped on|dispatch date|sent", "Shipped|Dispatched|Ship date",
                    "it shipped on {v}|dispatched {v}", "Date it left the warehouse", -4, 0),
               date("estimated_delivery", "eta|delivery date|expected delivery", "ETA|Expected|"
                    "Delivery by", "it should arrive {v}|expected {v}", "Expected delivery "
                    "date", 1, 8, terse="eta"),
               person("recipient_name", "recipient", "Recipient|Deliver to|Attn", "addressed "
                      "to {v}|for {v}", names="recipient|ship to name|consignee"),
               address("delivery_address", "delivery", "Address|Deliver to address|Ship to",
                       "it goes to {v}|delivering to {v}"),
               f("weight_kg", "measure", "weight|package weight|kg", "Weight|Wt.|Gross weight",
                 "it weighs {v}|{v} in total", "Weight in kilograms", lo=0, hi=30, dec=1,
                 units=" kg|kg| kgs", terse="wt"),
               f("package_count", "int", "packages|parcels|number of boxes", "Packages|Pcs|"
                 "Boxes", "in {v} boxes|{v} parcels", "How many parcels", lo=1, hi=6,
                 terse="pcs"),
               f("signature_required", "bool", "signature|needs signature|sign on delivery",
                 "Signature|Sign on delivery", "someone must sign for it|a signature is "
                 "needed", "Whether delivery needs a signature", neg="no signature is needed|it "
                 "can be left at the door", yes="required|yes|Y", no="not required|no|N"),
               f("service_level", "enum", "service|speed|shipping speed", "Service|Speed",
                 "sent {v}|{v} service", "Shipping speed", members="standard=economy/ground|"
                 "express=priority|overnight=next day"),
           ]),
    domain("product_listing", "PRODUCT|Listing|Item for sale", "New listing|Product details|"
           "Price update", "New in our shop.|Check out this product.|Listing details.",
           "Free returns.|Ships in 2 days.|While stocks last.", [
               f("product_name", "text", "name|title|item", "Product|Item|Name", "meet the {v}|"
                 "the {v} is back|we list the {v}", "Name of the product|e.g. {ex}",
                 pool=pool("AeroPress Go|TrailRunner 2 shoes|Nimbus desk lamp|Orbit smart "
                           "speaker|Vega 27\" monitor|Cascade water bottle|Luna backpack|"
                           "Pico label printer|Summit rain jacket")),
               f("sku", "text", "article number|item code|product code", "SKU|Art. no.|Item "
                 "code", "SKU {v}|item code {v}", "Stock keeping unit|e.g. {ex}",
                 pattern="SKU-#####|@@-####-@|######"),
               f("brand", "company", "maker|manufacturer|brand name", "Brand|Maker|By", "made by "
                 "{v}|from {v}", "Manufacturer"),
               money("price", "sale price|cost|list price", "Price|Now|Our price", "it sells "
                     "for {v}|priced at {v}|only {v}", "Price in the shop currency", 5, 900),
               currency(),
               f("in_stock", "bool", "available|stock status|is available", "In stock|"
                 "Availability", "it's in stock|available now", "Whether it can ship now",
                 neg="it's sold out|currently out of stock", yes="yes|in stock|available",
                 no="no|sold out|out of stock"),
               f("stock_quantity", "int", "quantity|units left|inventory", "Qty|Stock|Units",
                 "{v} units left|we have {v} in stock", "Units in stock", lo=0, hi=500,
                 terse="qty"),
               f("color", "enum", "colour|finish|shade", "Color|Colour|Finish", "in {v}|"
                 "colour {v}", "Colour variant", members="black=matte black/jet|white=snow/"
                 "ivory|red=crimson|blue=navy|green=olive"),
               f("dimensions", "object", "size|measurements|package size", "Dimensions|Size|"
                 "Measures", "it measures {v}|the size is {v}", "Size of the product in cm|"
                 "Length, width and height", terse="dims", verbose="product dimensions in cm",
                 row="{length} x {width} x {height}|L {length} / W {width} / H {height}",
                 subs=tuple(f(k, "measure", f"{k} cm|{k}", k.capitalize(), core=True, lo=2,
                              hi=120, dec=1, units=" cm|cm") for k in ("length", "width",
                                                                       "height"))),
               f("rating", "measure", "stars|average rating|score", "Rating|Stars|Score",
                 "rated {v}|{v} from buyers", "Average customer rating out of 5", lo=1, hi=5,
                 dec=1, units=" stars|/5| out of 5"),
               f("tags", "list", "keywords|labels|features", "Tags|Features", "features: {v}|"
                 "tagged {v}", "Search tags", neg="no tags", pool=pool(
                     "waterproof|eco|bestseller|new|gift idea|lightweight|wireless|vegan")),
           ]),
    domain("real_estate", "FOR SALE|Listing|Property details", "New listing|Open house|Price "
           "reduced", "Just listed!|A lovely home is available.|Property details below.",
           "Call to arrange a viewing.|Viewings by appointment.|Don't miss it.", [
               address("address", "property", "Address|Location|Property", "it is located at "
                       "{v}|the home at {v}"),
               money("price", "asking price|list price|sale price", "Price|Asking|Offers over",
                     "asking {v}|listed at {v}", "Asking price", 90000, 2500000, integer=True),
               f("bedrooms", "int", "beds|bedroom count|rooms", "Beds|Bedrooms|BR", "{v} "
                 "bedrooms|with {v} beds", "Number of bedrooms", lo=1, hi=6, terse="bd"),
               f("bathrooms", "measure", "baths|bathroom count", "Baths|Bathrooms|BA", "{v} "
                 "baths|and {v} bathrooms", "Bathrooms, halves count as .5", lo=1, hi=4, dec=1,
                 step=0.5,
                 terse="ba"),
               f("area_sqft", "int", "size|floor area|square feet", "Area|Size|Sq ft",
                 "{v} of living space|measuring {v}", "Living area in square feet",
                 lo=450, hi=4800, units=" sq ft| sqft| square feet", terse="sqft"),
               f("property_type", "enum", "type|home type|kind", "Type|Property type",
                 "a {v}|this {v}", "Kind of property", members="house=detached/single-family|"
                 "apartment=flat|condo=condominium|townhouse=terraced house/row house"),
               f("year_built", "int", "built|construction year|built in", "Built|Year built",
                 "built in {v}|from {v}", "Year of construction", lo=1890, hi=2023, nosep=True),
               person("agent_name", "agent", "Agent|Contact|Listed by", "listed by {v}|call {v}"
                      "|ask for {v}", names="agent|realtor|listing agent"),
               phone("agent_phone", "agent", "Phone|Tel.|Agent phone"),
               f("parking", "bool", "has parking|garage|parking included", "Parking|Garage",
                 "parking is included|it has a garage", "Whether parking comes with it",
                 neg="there is no parking|street parking only"),
               date("available_from", "available|move in date|from", "Available|Move-in",
                    "available from {v}|move in {v}", "First day one can move in", 7, 90),
           ]),
    domain("return_request", "RETURN REQUEST|RMA|Refund form", "Return request|Refund please|"
           "Item arrived damaged", "I'd like to return an item.|Return request below.|Hello, "
           "a problem with my order.", "Thank you.|Hope you can help.|Looking forward to the "
           "refund.", [
               f("order_number", "text", "order|order id|order ref", "Order|Order #|Order no.",
                 "from order {v}|my order {v}", "Order being returned|e.g. {ex}",
                 pattern="ORD-#####|#######|W#########", terse="ord_no"),
               f("return_reason", "enum", "reason|why|reason code", "Reason|Why", "because it "
                 "was {v}|the reason is {v}", "Why it is returned",
                 members="damaged=broken/arrived broken|wrong item=wrong product/not what I "
                         "ordered|not as described=different from photos|no longer needed=changed"
                         " my mind", terse="reason"),
               f("item", "text", "product|item name|article", "Item|Product|Article", "the {v} "
                 "I bought|returning the {v}", "Item to return", pool=PRODUCTS),
               money("refund_amount", "refund|amount|refund value", "Refund|Amount|Refund due",
                     "a refund of {v}|I paid {v}", "Amount to refund", 5, 600, terse="amt"),
               date("request_date", "date|requested on|submitted", "Date|Requested", "requested"
                    " on {v}|today, {v}", "Date of the request", -3, 0),
               email("customer_email", "customer", "Email|Reply to|Contact",
                     owner="customer_name"),
               person("customer_name", "customer", "Name|Customer|From", "{v} here|this is {v}"
                      "|my name is {v}", names="name|customer|buyer"),
               f("refund_method", "enum", "refund to|payout|refund type", "Refund to|Refund "
                 "method", "refund to my {v}|as {v}", "Where the money goes",
                 members="original payment=card/original card|store credit=voucher/gift card|"
                         "bank transfer=bank account"),
               f("label_sent", "bool", "return label|label emailed|has label", "Label|Return "
                 "label", "you already sent the label|I got the return label", "Whether a "
                 "return label was sent", neg="I haven't got a label yet|no label received"),
               f("tags", "list", "labels|flags", "Tags|Flags", "flags: {v}|tagged {v}",
                 "Internal flags", neg="no flags", pool=TAGS),
           ], writer="customer_name"),
)
