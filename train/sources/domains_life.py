"""Travel, health, device and everyday-life domains of the generator: sensors, hotel and
restaurant bookings, meetings, appointments, events, flights, rentals, courses and weather.

Each :class:`~train.sources.domains.Domain` lists candidate fields with the words a schema may
name them by, the labels and clauses a text uses for them, and candidate descriptions.
"""

from __future__ import annotations

from .domains import (
    ROOMS,
    Domain,
    date,
    domain,
    email,
    money,
    person,
    phone,
    pool,
)
from .fields import f

__all__ = ["LIFE_DOMAINS"]

ATTENDEES = f("attendees", "list", "participants|invitees|guests", "Attendees|Participants|"
              "Invitees|Who", "with {v}|{v} are invited|attending: {v}", "People invited|"
              "Names of the participants", neg="nobody else is invited yet|no other attendees",
              item="person", group="attendees")

LIFE_DOMAINS: tuple[Domain, ...] = (
    domain("sensor", "SENSOR REPORT|Telemetry|Reading|Device status", "Sensor alert|Daily reading|"
       "Telemetry report", "Latest reading from the field.|Automated report.|Device update.",
       "Next reading in 15 minutes.|End of report.|No action needed unless flagged.", [
           f("sensor_id", "text", "device id|device|sensor", "Sensor|Device|Sensor ID|Node",
             "sensor {v} reports|device {v} sent|from node {v}", "Identifier of the device|"
             "e.g. {ex}", terse="sid", pattern="sensor-####|TMP-#@|node-##|S###-@@|x####-xx"),
           f("location", "text", "site|place|room", "Location|Site|Room|Zone", "located in {v}|"
             "at {v}|installed in {v}", "Where the sensor is installed|Room or site name",
             pool=ROOMS, terse="loc"),
           f("temperature", "measure", "temp|temperature c|temp celsius", "Temp|Temperature|T",
             "temperature is {v}|it reads {v}|{v} measured", "Temperature in degrees Celsius|"
             "Measured temperature", lo=-25, hi=95, dec=1, units=" °C|°C| C|C| degC",
             spoken=" degrees| °C| C", verbose="temperature in celsius"),
           f("humidity", "measure", "relative humidity|rh|humidity pct", "Humidity|RH|Hum.",
             "humidity at {v}|{v} relative humidity", "Relative humidity in percent",
             lo=10, hi=99, dec=1, units="%| %", terse="rh"),
           f("pressure", "measure", "air pressure|pressure hpa|baro", "Pressure|Baro|P",
             "pressure {v}|barometer at {v}", "Air pressure in hPa", lo=960, hi=1050, dec=1,
             units=" hPa|hPa| mbar"),
           f("battery_level", "measure", "battery|battery pct|charge", "Battery|Bat.|Charge",
             "battery at {v}|{v} battery left", "Remaining battery in percent", lo=3, hi=100,
             dec=0, units="%| %| percent", terse="bat"),
           f("reading_time", "time", "time|measured at|timestamp", "Time|At|Measured at",
             "at {v}|measured at {v}|as of {v}", "Time of the reading as written|24h or 12h "
             "clock time"),
           date("reading_date", "date|measured on", "Date|Day", "on {v}|dated {v}",
                "Day of the reading", -3, 0),
           f("status", "enum", "state|health|condition", "Status|State|Health", "status {v}|"
             "flagged {v}|overall {v}", "Health of the reading", members="ok=normal/fine/green|"
             "warning=warn/amber/elevated|critical=alarm/red/crit"),
           f("alarm", "bool", "alarm active|alert|triggered", "Alarm|Alert|Triggered", "an alarm "
             "was raised|the alert fired", "True when the alarm is active", neg="no alarm was "
             "raised|alerts are quiet", yes="yes|ON|active|triggered", no="no|OFF|inactive|none"),
           f("readings", "rows", "samples|history|log", "Readings|Samples|Log", "earlier "
             "readings were {v}|the log shows {v}", "Recent samples, oldest first|Time and "
             "value of each sample", neg="no earlier samples were stored|the log is empty",
             row="{time}: {value}|{value} at {time}|{time} - {value}", terse="samples",
             subs=(f("time", "time", "at|sample time|timestamp", "Time", core=True),
                   f("value", "measure", "reading|temp|measurement", "Value", core=True,
                     lo=-10, hi=60, dec=1, units=" °C|°C| C"))),
           f("voltage", "measure", "supply voltage|volts|vcc", "Voltage|Vcc|Supply", "supply at "
             "{v}|{v} on the rail", "Supply voltage in volts", lo=2, hi=5, dec=2,
             units=" V|V| volts"),
       ]),
    domain("hotel_booking", "BOOKING CONFIRMATION|Reservation|Hotel booking", "Booking "
           "request|Your reservation|Room enquiry", "I'd like to book a room.|Thank you for "
           "your reservation.|Booking details below.", "We look forward to welcoming you.|"
           "See you soon.|Kind regards.", [
               person("guest_name", "guest", "Guest|Name|Booked by", "the guest is {v}|{v} will "
                      "stay|booked for {v}", names="guest|name|lead guest"),
               email("guest_email", "guest", "Email|Guest email", owner="guest_name"),
               phone("phone", "guest", "Phone|Tel.|Mobile"),
               f("hotel_name", "text", "hotel|property|accommodation", "Hotel|Property",
                 "at {v}|staying at {v}", "Name of the hotel|e.g. {ex}", pool=pool(
                     "Harbor View Inn|Hotel Lindenhof|The Grand Plaza|Seaside Lodge|Alpine Rest"
                     "|Park Lane Suites|Casa Blanca Hostel|Riverside Hotel")),
               date("check_in", "arrival|arrival date|check-in date", "Check-in|Arrival|From",
                    "arriving {v}|check-in on {v}", "Arrival date", 5, 40, terse="ci"),
               date("check_out", "departure|departure date|check-out date", "Check-out|"
                    "Departure|Until", "leaving {v}|check-out {v}", "Departure date", 41, 50,
                    terse="co"),
               f("guests", "int", "number of guests|people|pax", "Guests|Persons|Pax", "for {v} "
                 "guests|{v} people in total", "Number of guests", lo=1, hi=6, terse="pax"),
               f("room_type", "enum", "room|room category", "Room|Room type", "a {v} room|the "
                 "{v}", "Kind of room", members="single=single room|double=double room/king|"
                 "twin=two beds|suite=junior suite"),
               f("breakfast_included", "bool", "breakfast|with breakfast|meal plan",
                 "Breakfast|Board", "breakfast is included|with breakfast", "Whether breakfast "
                 "is included", neg="room only, no breakfast|breakfast not included",
                 yes="yes|included|B&B", no="no|room only|not included"),
               money("total_price", "price|total|amount", "Total|Price|Rate", "the total is "
                     "{v}|it comes to {v}", "Price of the stay", 80, 3000, terse="amt"),
               f("confirmation_code", "text", "confirmation|booking number|reservation id",
                 "Confirmation #|Booking no.|Ref", "confirmation {v}|booking ref {v}",
                 "Booking reference|e.g. {ex}", pattern="@@####|#########|BK-#####",
                 terse="conf"),
               f("special_requests", "list", "requests|notes|wishes", "Requests|Notes",
                 "I'd ask for {v}|requests: {v}", "Extra wishes of the guest", neg="no special "
                 "requests", pool=pool("late check-in|quiet room|extra pillow|baby cot|high "
                                       "floor|airport pickup|parking space")),
           ], writer="guest_name"),
    domain("meeting", "MEETING INVITE|Calendar invite|Meeting", "Invitation: project sync|"
           "Meeting request|Let's meet", "You're invited to a meeting.|Setting up a call.|"
           "Quick sync needed.", "Please confirm.|See you there.|Agenda to follow.", [
               f("title", "text", "subject|meeting name|topic", "Title|Subject|Topic", "the "
                 "meeting is \"{v}\"|topic: {v}", "Meeting title|e.g. {ex}", pool=pool(
                     "Q3 budget review|Sprint planning|Vendor onboarding call|Design critique|"
                     "Quarterly kickoff|Hiring sync|Roadmap workshop")),
               person("organizer", "organizer", "Organizer|Host|From", "hosted by {v}|{v} "
                      "organizes it", names="host|organiser|organizer name"),
               email("organizer_email", "organizer", "Email|Host email|Reply to",
                     owner="organizer"),
               date("date", "meeting date|day|on", "Date|When|Day", "on {v}|scheduled for {v}",
                    "Day of the meeting", 1, 20),
               f("start_time", "time", "start|begins|from", "Start|Starts at|Time",
                 "starting at {v}|from {v}", "Start time as written", terse="start"),
               f("duration_minutes", "int", "duration|length|minutes", "Duration|Length",
                 "for {v} minutes|lasting {v} min", "Length in minutes", lo=15, hi=120,
                 terse="dur_min"),
               f("location", "text", "room|place|where", "Room|Location|Where", "in {v}|at {v}",
                 "Meeting room or place", pool=pool("Room 4B|Conference room Atlas|Main hall|"
                                                    "Cafe downstairs|Board room|Zoom|Teams")),
               ATTENDEES,
               f("attendee_contacts", "rows", "attendees|participants|invitees", "Attendees|"
                 "Invitees|Guests", "inviting {v}|the invite goes to {v}", "Invited people "
                 "with their email|One entry per attendee", neg="no one else is invited yet|"
                 "no invitees so far", group="attendees", row="{name} <{email}>|{name} "
                 "({email})", subs=(f("name", "person", "full name|attendee", "Name",
                                      core=True),
                                    f("email", "email", "email address|mail", "Email"))),
               f("video_link", "url", "link|call link|meeting url", "Link|Join|Video",
                 "join via {v}|dial in at {v}", "Video call link"),
               f("recurring", "bool", "repeats|is recurring|weekly", "Recurring|Repeats",
                 "it repeats weekly|this is a recurring slot", "Whether it repeats",
                 neg="it's a one-off|just this once", yes="yes|weekly|Y", no="no|once|N"),
           ]),
    domain("medical_appointment", "APPOINTMENT|Patient booking|Clinic appointment",
           "Appointment confirmation|Booking at the clinic|Reminder: your visit",
           "Your appointment is confirmed.|Booking a visit.|Reminder of your appointment.",
           "Please arrive 10 minutes early.|Bring your insurance card.|Call to reschedule.", [
               person("patient_name", "patient", "Patient|Name", "the patient is {v}|for {v}|"
                      "{v} is booked", names="patient|name|patient full name"),
               date("date_of_birth", "birth date|dob|born", "DOB|Date of birth|Born", "born {v}"
                    "|date of birth {v}", "Patient's date of birth", -30000, -6000, terse="dob"),
               date("appointment_date", "date|visit date|appointment", "Date|Appointment|On",
                    "on {v}|booked for {v}", "Day of the visit", 1, 30, terse="appt_date"),
               f("appointment_time", "time", "time|slot|at", "Time|Slot", "at {v}|the slot is "
                 "{v}", "Time of the visit", terse="appt_time"),
               f("doctor", "doctor", "physician|provider|clinician", "Doctor|With|Provider",
                 "with {v}|{v} will see you", "Treating doctor"),
               f("specialty", "enum", "department|clinic|service", "Department|Clinic",
                 "in {v}|the {v} clinic", "Medical specialty", members="cardiology=heart/"
                 "cardiac|dermatology=skin|pediatrics=children's|general=GP/family medicine|"
                 "orthopedics=bones/ortho"),
               f("reason", "text", "reason for visit|complaint|symptoms", "Reason|Complaint",
                 "because of {v}|for {v}", "Why the patient comes", pool=pool(
                     "back pain|annual check-up|persistent cough|skin rash|knee injury|"
                     "follow-up visit|high blood pressure|migraine")),
               f("insurance_id", "text", "insurance number|member id|policy", "Insurance|"
                 "Member ID|Policy no.", "insurance {v}|member {v}", "Insurance member "
                 "number|e.g. {ex}", pattern="@########|###-##-####|@@########", terse="ins"),
               phone("phone", "patient", "Phone|Tel.|Contact"),
               f("first_visit", "bool", "new patient|is new|first time", "New patient|"
                 "First visit", "this is the first visit|they are a new patient", "Whether the "
                 "patient is new", neg="they've been here before|returning patient"),
               f("medications", "rows", "current medication|meds|prescriptions", "Medication|"
                 "Meds|Current meds", "currently taking {v}|on {v}", "Current medicines and "
                 "doses|Each drug with its dose", neg="no current medication|takes no "
                 "medicines", row="{name} {dose_mg}|{name} ({dose_mg})|{dose_mg} of {name}",
                 terse="meds", subs=(f("name", "text", "drug|medicine", "Drug", core=True,
                                       pool=pool("ibuprofen|metformin|lisinopril|amoxicillin|"
                                                 "atorvastatin|omeprazole|levothyroxine")),
                                     f("dose_mg", "int", "dose|mg|dosage", "Dose", lo=5,
                                       hi=1000, units=" mg|mg"))),
               f("allergies", "list", "known allergies|allergy list", "Allergies|Allergic to",
                 "allergic to {v}|allergies: {v}", "Known allergies", neg="no known allergies|"
                 "no allergies", pool=pool("penicillin|peanuts|latex|pollen|aspirin|shellfish|"
                                           "ibuprofen")),
           ], writer="patient_name"),
    domain("event", "EVENT|What's on|Event listing", "Join us!|Event announcement|Save the "
           "date", "Mark your calendars!|Something fun is coming.|Event details.", "Tickets "
           "at the door.|Bring a friend!|See you there!", [
               f("event_name", "text", "name|title|event", "Event|Name|What", "{v} is coming|"
                 "join us for {v}", "Name of the event|e.g. {ex}", pool=pool(
                     "Summer Jazz Night|Open Data Meetup|Harvest Food Fair|Indie Film Week|"
                     "City Marathon|Startup Pitch Day|Spring Book Market")),
               f("venue", "text", "place|location|hall", "Venue|Where|Place", "at {v}|held at "
                 "{v}", "Where the event happens|Venue name", pool=pool(
                     "Town Hall|The Roundhouse|Riverside Park|Civic Centre|Blue Note Club|"
                     "Expo Hall 2|Old Mill Theatre")),
               f("city", "city", "town|event city", "City|Town", "in {v}|{v} hosts it",
                 "City where the event happens"),
               date("date", "event date|day|on", "Date|When|Day", "on {v}|happening {v}",
                    "Day of the event", 5, 90),
               f("start_time", "time", "start|doors|begins", "Doors|Start|Time", "doors open "
                 "at {v}|starting {v}", "Start time", terse="start"),
               money("ticket_price", "price|entry fee|admission", "Tickets|Entry|Price",
                     "tickets cost {v}|entry is {v}", "Price of one ticket", 5, 250,
                     terse="price"),
               f("capacity", "int", "seats|max attendees|places", "Capacity|Seats|Places",
                 "room for {v} people|{v} seats", "Maximum attendees", lo=20, hi=5000),
               person("organizer", "organizer", "Organizer|Hosted by|Contact", "organised by "
                      "{v}|{v} hosts", names="host|organiser"),
               f("category", "enum", "type|kind|event type", "Type|Category", "a {v}|this {v}",
                 "Kind of event", members="concert=gig/live music|conference=summit|"
                 "workshop=hands-on session|festival=fair|sports=race/match"),
               f("performers", "list", "lineup|speakers|artists", "Lineup|Speakers|With",
                 "featuring {v}|with {v}", "Who performs or speaks", neg="lineup to be "
                 "announced|no speakers announced yet", item="person"),
               f("age_restriction", "int", "minimum age|age limit|min age", "Ages|Age limit",
                 "{v}+ only|must be {v} or older", "Minimum age", lo=12, hi=21, terse="min_age"),
           ]),
    domain("flight", "BOARDING PASS|E-ticket|Flight itinerary", "Your flight itinerary|Flight "
           "change|Check-in open", "Your trip is booked.|Here is your itinerary.|Flight "
           "details.", "Have a pleasant flight.|Check in online 24h before.|Safe travels.", [
               f("flight_number", "text", "flight|flight no|flight code", "Flight|Flight no.|"
                 "FLT", "flight {v}|on {v}", "Airline code and number|e.g. {ex}",
                 pattern="LH ###|UA###|BA ####|AF####|KL ###|DL####|EZY####", terse="flt"),
               f("airline", "company", "carrier|operated by|airline name", "Airline|Carrier|"
                 "Operated by", "operated by {v}|flying {v}", "Operating airline", pool=pool(
                     "Lufthansa|United|British Airways|Air France|KLM|Delta|easyJet|Iberia")),
               person("passenger_name", "passenger", "Passenger|Name|Traveler", "passenger "
                      "{v}|{v} is travelling", names="passenger|traveler|pax name",
                      terse="pax"),
               f("departure_airport", "text", "from|origin|departure", "From|Origin|Dep.",
                 "departing {v}|from {v}", "IATA code of the origin|e.g. {ex}", pool=pool(
                     "JFK|LHR|FRA|CDG|AMS|SFO|MAD|ORD|MUC|DUB|BCN|BOS"), terse="dep"),
               f("arrival_airport", "text", "to|destination|arrival", "To|Destination|Arr.",
                 "to {v}|landing in {v}", "IATA code of the destination", pool=pool(
                     "LAX|SEA|ZRH|FCO|LIS|VIE|CPH|ATL|YYZ|MIA|EDI|OSL"), terse="arr"),
               date("departure_date", "date|flight date|departs", "Date|Departs|Dep. date",
                    "leaving {v}|departing on {v}", "Departure day", 2, 60),
               f("departure_time", "time", "time|dep time|boarding", "Dep. time|Time|Departs "
                 "at", "at {v}|takes off at {v}", "Scheduled departure time"),
               f("seat", "text", "seat number|seat assignment", "Seat|Seat no.", "seat {v}|"
                 "in {v}", "Assigned seat|e.g. {ex}", pattern="##@|#@|##@"),
               f("cabin_class", "enum", "class|cabin|fare class", "Class|Cabin", "flying {v}|"
                 "in {v}", "Cabin class", members="economy=coach/economy class|premium economy="
                 "premium|business=business class/J|first=first class"),
               f("booking_reference", "text", "pnr|record locator|confirmation", "PNR|Booking "
                 "ref|Confirmation", "booking reference {v}|PNR {v}", "Six-character "
                 "booking code", pattern="@?@??@|??????", terse="pnr"),
               f("checked_bags", "int", "bags|baggage|luggage", "Bags|Checked bags|Baggage",
                 "with {v} checked bags|{v} bags included", "Checked bags included", lo=0,
                 hi=3),
               f("checked_in", "bool", "online check in|is checked in", "Checked in|Check-in",
                 "you are already checked in|check-in is complete", "Whether check-in is done",
                 neg="you still need to check in|not checked in yet", yes="yes|done|complete",
                 no="no|pending|not yet"),
           ], writer="passenger_name"),
    domain("restaurant_reservation", "RESERVATION|Table booking|Booking", "Table for tonight|"
           "Reservation request|Your table is booked", "I'd like to book a table.|Your "
           "reservation is confirmed.|Table request.", "Thanks!|See you then.|Let us know if "
           "plans change.", [
               person("name", "guest", "Name|Booked by|Guest", "under the name {v}|{v} booked",
                      names="guest name|reservation name|booked by"),
               f("party_size", "int", "guests|people|covers", "Party|Guests|Covers", "a table "
                 "for {v}|{v} people", "How many people", lo=1, hi=12, terse="pax"),
               date("date", "day|reservation date|on", "Date|Day|On", "on {v}|for {v}",
                    "Day of the reservation", 0, 21),
               f("time", "time", "reservation time|at|slot", "Time|At|Slot", "at {v}|around "
                 "{v}", "Time of the reservation"),
               phone("phone", "guest", "Phone|Tel.|Mobile"),
               f("restaurant", "text", "venue|restaurant name|place", "Restaurant|Venue",
                 "at {v}|a table at {v}", "Restaurant name", pool=pool(
                     "Trattoria Roma|The Green Fork|Sakura Sushi|Le Petit Bistro|Blue Anchor|"
                     "Casa Pepe|Olive & Thyme")),
               f("seating", "enum", "area|seating area|section", "Seating|Area", "seated {v}|"
                 "{v} please", "Where to seat the party", members="indoor=inside/dining room|"
                 "outdoor=terrace/patio/outside|bar=counter"),
               f("occasion", "text", "event|celebration", "Occasion|Event", "it's for {v}|"
                 "celebrating {v}", "Special occasion, if any", pool=pool(
                     "a birthday|an anniversary|a business dinner|a graduation|an engagement")),
               f("high_chair", "bool", "needs high chair|child seat|kids", "High chair|Kids",
                 "we need a high chair|please add a high chair", "Whether a high chair is "
                 "needed", neg="no high chair needed|no kids with us"),
               money("deposit", "deposit paid|prepayment|advance", "Deposit|Prepaid", "a "
                     "deposit of {v}|{v} paid upfront", "Deposit paid", 10, 200),
           ], writer="name"),
    domain("car_rental", "RENTAL AGREEMENT|Car hire|Rental booking", "Your car rental|Rental "
           "confirmation|Car hire request", "Your car is reserved.|Rental details below.|I need "
           "a car.", "Drive safely!|Bring your licence.|Fuel policy: full to full.", [
               person("renter_name", "renter", "Driver|Renter|Name", "rented by {v}|driver {v}",
                      names="driver|renter|main driver"),
               f("pickup_location", "text", "pick up at|branch|pickup", "Pick-up|Branch|Pick-up at",
                 "picking up at {v}|collect from {v}", "Branch of pick-up", pool=pool(
                     "Airport Terminal 2|Central Station|Downtown branch|Harbour office|"
                     "North Gate depot")),
               date("pickup_date", "start date|from|rental start", "Pick-up date|From|Start",
                    "from {v}|pick-up {v}", "First rental day", 2, 30),
               date("return_date", "end date|until|drop off", "Return|Until|Drop-off",
                    "returning {v}|until {v}", "Last rental day", 31, 45),
               f("car_class", "enum", "vehicle class|category|car type", "Class|Car|Group",
                 "a {v}|{v} car", "Vehicle category", members="economy=mini/small car|compact="
                 "midsize|suv=4x4/crossover|van=minivan/people carrier"),
               money("daily_rate", "rate|price per day|day rate", "Rate|Per day|Daily",
                     "{v} per day|at {v} a day", "Price per day", 18, 220),
               f("driver_age", "int", "age|age of driver", "Age|Driver age", "the driver is {v}"
                 "|aged {v}", "Age of the main driver", lo=19, hi=80),
               f("insurance", "bool", "full cover|insured|cdw", "Insurance|Full cover|CDW",
                 "with full insurance|cover included", "Whether extra insurance is booked",
                 neg="no extra insurance|without cover"),
               f("confirmation_number", "text", "booking number|reservation|ref",
                 "Confirmation|Res. no.|Ref", "confirmation {v}|reservation {v}",
                 "Rental reference|e.g. {ex}", pattern="#########|@@######|RA-#####"),
               f("extras", "list", "add-ons|options|equipment", "Extras|Add-ons", "with {v}|"
                 "adding {v}", "Optional equipment", neg="no extras", pool=pool(
                     "GPS|child seat|snow chains|extra driver|roof box|wifi hotspot")),
           ], writer="renter_name"),
    domain("course_enrollment", "ENROLLMENT|Registration|Course sign-up", "Enrollment "
           "confirmation|Course registration|Sign-up", "Welcome to the course!|Registration "
           "received.|I'd like to enroll.", "Classes start soon.|See you in class.|Good luck!", [
               person("student_name", "student", "Student|Name|Learner", "student {v}|{v} is "
                      "enrolled", names="student|learner|name"),
               f("student_id", "text", "student number|matriculation|id", "Student ID|ID|"
                 "Matr. no.", "student number {v}|ID {v}", "University ID|e.g. {ex}",
                 pattern="S#######|########|U##-####", terse="sid"),
               f("course_code", "text", "course|code|module", "Course|Code|Module", "course "
                 "{v}|module {v}", "Course code|e.g. {ex}", pattern="CS-###|MATH ###|BIO###|"
                 "ECON-##|HIST ###", terse="code"),
               f("course_title", "text", "title|course name|module title", "Title|Course name",
                 "\"{v}\"|the course {v}", "Full course title", pool=pool(
                     "Intro to Data Science|Organic Chemistry I|Modern European History|"
                     "Microeconomics|Creative Writing|Linear Algebra|Marine Biology")),
               f("semester", "enum", "term|session|period", "Term|Semester", "in the {v} term|"
                 "{v} semester", "Term of the course", members="fall=autumn|spring|summer=summer "
                 "school|winter=winter term"),
               f("credits", "int", "credit hours|ects|units", "Credits|ECTS|Units", "worth {v} "
                 "credits|{v} ECTS", "Credit points", lo=1, hi=10),
               date("start_date", "starts|first class|begins", "Starts|Start|First class",
                    "starting {v}|first class {v}", "First day of class", 7, 80),
               person("instructor", "instructor", "Instructor|Teacher|Lecturer", "taught by "
                      "{v}|{v} teaches it", names="teacher|lecturer|professor"),
               email("email", "student", "Email|Student email", owner="student_name"),
               money("fee", "tuition|cost|course fee", "Fee|Tuition|Cost", "the fee is {v}|"
                     "costs {v}", "Course fee", 50, 3000),
               f("online", "bool", "remote|is online|virtual", "Online|Remote|Format",
                 "classes are online|it runs remotely", "Whether it is taught online",
                 neg="it's taught on campus|in person only", yes="yes|online|remote",
                 no="no|on campus|in person"),
           ], writer="student_name"),
    domain("weather_report", "WEATHER|Forecast|Weather report", "Weather update|Forecast for "
           "tomorrow|Storm warning", "Here's the forecast.|Weather update.|Today's outlook.",
           "Stay safe.|Updates every hour.|Enjoy your day.", [
               f("location", "city", "city|place|station", "Location|City|Station", "in {v}|"
                 "for {v}", "Place of the forecast"),
               date("date", "day|forecast date|for", "Date|Day|For", "on {v}|for {v}",
                    "Day of the forecast", 0, 3),
               f("high_temp", "measure", "high|max temperature|maximum", "High|Max|Hi",
                 "a high of {v}|up to {v}", "Highest temperature in Celsius", lo=12, hi=38,
                 dec=0, units="°C| °C|°| C", spoken=" degrees|°C", terse="hi"),
               f("low_temp", "measure", "low|min temperature|minimum", "Low|Min|Lo",
                 "a low of {v}|down to {v}", "Lowest temperature in Celsius", lo=-15, hi=11,
                 dec=0, units="°C| °C|°| C", spoken=" degrees|°C", terse="lo"),
               f("condition", "enum", "sky|weather|conditions", "Conditions|Sky|Weather",
                 "expect {v}|{v} all day", "General conditions", members="sunny=clear/sunshine|"
                 "cloudy=overcast/grey|rain=showers/rainy|snow=snowfall/snowy|storm=thunder"
                 "storms"),
               f("wind_speed", "measure", "wind|wind kmh|gusts", "Wind|Wind speed", "winds of "
                 "{v}|wind at {v}", "Wind speed in km/h", lo=0, hi=90, dec=0,
                 units=" km/h|km/h| kph", terse="wind"),
               f("humidity", "measure", "relative humidity|rh", "Humidity|RH", "humidity {v}|"
                 "{v} humidity", "Relative humidity in percent", lo=20, hi=100, dec=0,
                 units="%| %"),
               f("precipitation_chance", "measure", "rain chance|pop|chance of rain",
                 "Rain chance|Precip.|POP", "a {v} chance of rain|rain odds {v}", "Chance of "
                 "precipitation in percent", lo=0, hi=100, dec=0, units="%| percent",
                 terse="pop"),
               f("uv_index", "int", "uv|sun index", "UV|UV index", "UV index {v}|UV at {v}",
                 "UV index, 0 to 11", lo=0, hi=11, terse="uv"),
               f("alert", "bool", "warning|weather alert|advisory", "Alert|Warning",
                 "a weather warning is in effect|an advisory is out", "Whether an alert is "
                 "active", neg="no warnings in effect|no alerts", yes="yes|active|in effect",
                 no="no|none|-"),
           ]),
)
