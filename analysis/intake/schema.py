"""The raw user table's schema: the 24 columns, their kinds and the allowed categorical values.

One place for what the reader, the validation suite and the scorer all need to agree on.
"""

from __future__ import annotations

ID_COLUMN = "identifierHash"

#: column name -> kind; kinds are "int64" (exact signed 64-bit integer), "int" (count or
#: day number), "float", "bool" (written True/False) and "str". Order is the file's order.
COLUMNS: dict[str, str] = {
    "identifierHash": "int64",
    "type": "str",
    "country": "str",
    "language": "str",
    "socialNbFollowers": "int",
    "socialNbFollows": "int",
    "socialProductsLiked": "int",
    "productsListed": "int",
    "productsSold": "int",
    "productsPassRate": "float",
    "productsWished": "int",
    "productsBought": "int",
    "gender": "str",
    "civilityGenderId": "int",
    "civilityTitle": "str",
    "hasAnyApp": "bool",
    "hasAndroidApp": "bool",
    "hasIosApp": "bool",
    "hasProfilePicture": "bool",
    "daysSinceLastLogin": "int",
    "seniority": "int",
    "seniorityAsMonths": "float",
    "seniorityAsYears": "float",
    "countryCode": "str",
}

COUNT_COLUMNS = [
    "socialNbFollowers",
    "socialNbFollows",
    "socialProductsLiked",
    "productsListed",
    "productsSold",
    "productsWished",
    "productsBought",
]

GENDERS = ["M", "F"]
CIVILITY_IDS = [1, 2, 3]
CIVILITY_TITLES = ["mr", "mrs", "miss"]
#: (gender, civilityGenderId, civilityTitle): the three columns agree on every real row.
CIVILITY_TRIPLES = [("M", 1, "mr"), ("F", 2, "mrs"), ("F", 3, "miss")]
LANGUAGES = ["en", "fr", "it", "de", "es"]

#: Short, stakeholder-facing meaning of each column (the site's data dictionary).
DESCRIPTIONS: dict[str, str] = {
    "identifierHash": "Anonymised user id (signed 64-bit integer, unique).",
    "type": "Account type; always 'user' in this export.",
    "country": "Country name as written by the platform (French spelling).",
    "language": "Interface language (two-letter code).",
    "socialNbFollowers": "Number of users following this user (new accounts start at 3).",
    "socialNbFollows": "Number of users this user follows (new accounts start at 8).",
    "socialProductsLiked": "Number of products the user liked.",
    "productsListed": "Number of products currently listed for sale.",
    "productsSold": "Number of products sold.",
    "productsPassRate": "Share of listed products that passed quality control, in percent (0-100).",
    "productsWished": "Number of products on the user's wish list.",
    "productsBought": "Number of products bought.",
    "gender": "Gender (M or F).",
    "civilityGenderId": "Civility as a number: 1 mr, 2 mrs, 3 miss.",
    "civilityTitle": "Civility title: mr, mrs or miss.",
    "hasAnyApp": "Uses any of the mobile apps (Android or iOS).",
    "hasAndroidApp": "Uses the Android app.",
    "hasIosApp": "Uses the iOS app.",
    "hasProfilePicture": "Has set a profile picture.",
    "daysSinceLastLogin": "Days between the last login and the export date.",
    "seniority": "Days since sign-up.",
    "seniorityAsMonths": "Seniority in months (seniority / 30, two decimals).",
    "seniorityAsYears": "Seniority in years (seniority / 360, two decimals).",
    "countryCode": "Two-letter country code.",
}

#: Short stakeholder names of the behaviour columns.
COLUMN_LABELS = {
    "socialNbFollowers": "Followers",
    "socialNbFollows": "Follows",
    "socialProductsLiked": "Products liked",
    "productsListed": "Products listed",
    "productsSold": "Products sold",
    "productsWished": "Products wished",
    "productsBought": "Products bought",
    "daysSinceLastLogin": "Days since last login",
    "seniority": "Seniority (days)",
    "productsPassRate": "Pass rate (%)",
}
