"""The word lists of lecture 09's language pair: a Spanish-like source and its English translation.

Every source word knows its translation; the grammar in `rnn_lib.translation` picks words from
these lists and makes them agree. Nouns have a gender and a number, adjectives and determiners
have the four forms that agree with them (masculine/feminine, singular/plural), verbs have a
singular and a plural form. English keeps only the number.
"""

# nouns: (singular, plural, gender, English singular, English plural, mass noun?)
NOUNS = [
    ("perro", "perros", "m", "dog", "dogs", False),
    ("gato", "gatos", "m", "cat", "cats", False),
    ("restaurante", "restaurantes", "m", "restaurant", "restaurants", False),
    ("libro", "libros", "m", "book", "books", False),
    ("coche", "coches", "m", "car", "cars", False),
    ("hombre", "hombres", "m", "man", "men", False),
    ("niño", "niños", "m", "boy", "boys", False),
    ("amigo", "amigos", "m", "friend", "friends", False),
    ("parque", "parques", "m", "park", "parks", False),
    ("mercado", "mercados", "m", "market", "markets", False),
    ("pan", "panes", "m", "bread", "breads", True),
    ("vino", "vinos", "m", "wine", "wines", True),
    ("casa", "casas", "f", "house", "houses", False),
    ("mesa", "mesas", "f", "table", "tables", False),
    ("mujer", "mujeres", "f", "woman", "women", False),
    ("niña", "niñas", "f", "girl", "girls", False),
    ("ciudad", "ciudades", "f", "city", "cities", False),
    ("calle", "calles", "f", "street", "streets", False),
    ("ventana", "ventanas", "f", "window", "windows", False),
    ("playa", "playas", "f", "beach", "beaches", False),
    ("flor", "flores", "f", "flower", "flowers", False),
    ("silla", "sillas", "f", "chair", "chairs", False),
    ("comida", "comidas", "f", "food", "foods", True),
    ("fruta", "frutas", "f", "fruit", "fruits", True),
]
# adjectives: ((masc sg, fem sg, masc pl, fem pl), English, position in the source)
ADJECTIVES = [
    (("rojo", "roja", "rojos", "rojas"), "red", "post"),
    (("blanco", "blanca", "blancos", "blancas"), "white", "post"),
    (("negro", "negra", "negros", "negras"), "black", "post"),
    (("verde", "verde", "verdes", "verdes"), "green", "post"),
    (("pequeño", "pequeña", "pequeños", "pequeñas"), "small", "post"),
    (("grande", "grande", "grandes", "grandes"), "big", "post"),
    (("bonito", "bonita", "bonitos", "bonitas"), "pretty", "post"),
    (("caro", "cara", "caros", "caras"), "expensive", "post"),
    (("barato", "barata", "baratos", "baratas"), "cheap", "post"),
    (("limpio", "limpia", "limpios", "limpias"), "clean", "post"),
    (("nuevo", "nueva", "nuevos", "nuevas"), "new", "post"),
    (("frío", "fría", "fríos", "frías"), "cold", "post"),
    (("buen", "buena", "buenos", "buenas"), "good", "pre"),  # like Spanish: before the noun
    (("mal", "mala", "malos", "malas"), "bad", "pre"),
]
# determiners: (masc sg, fem sg, masc pl, fem pl), (English sg, English pl)
DETERMINERS = [
    (("el", "la", "los", "las"), ("the", "the")),
    (("un", "una", "unos", "unas"), ("a", "some")),
    (("este", "esta", "estos", "estas"), ("this", "these")),
    (("mi", "mi", "mis", "mis"), ("my", "my")),
]
# verbs: (3rd person singular, plural, English singular, English plural)
TRANSITIVE = [
    ("tiene", "tienen", "has", "have"), ("ve", "ven", "sees", "see"),
    ("come", "comen", "eats", "eat"), ("quiere", "quieren", "wants", "want"),
    ("compra", "compran", "buys", "buy"), ("vende", "venden", "sells", "sell"),
    ("busca", "buscan", "seeks", "seek"), ("encuentra", "encuentran", "finds", "find"),
]
INTRANSITIVE = [
    ("duerme", "duermen", "sleeps", "sleep"), ("trabaja", "trabajan", "works", "work"),
    ("canta", "cantan", "sings", "sing"), ("corre", "corren", "runs", "run"),
    ("espera", "esperan", "waits", "wait"),
]
PREPOSITIONS = [("en", "in"), ("con", "with"), ("sin", "without"), ("para", "for"),
                ("sobre", "on"), ("de", "of")]
FUNCTION_WORDS = [("que", "that"), ("y", "and"), ("del", "of the")]  # del = de + el


def lexicon() -> dict[str, tuple[str, ...]]:
    """Every source word and its translation (a tuple of target words: del -> (of, the))."""
    lex: dict[str, tuple[str, ...]] = {}
    for sg, pl, _, en_sg, en_pl, _ in NOUNS:
        lex[sg], lex[pl] = (en_sg,), (en_pl,)
    for forms, en, _ in ADJECTIVES:
        lex.update({f: (en,) for f in forms})
    for forms, (en_sg, en_pl) in DETERMINERS:
        lex.update({forms[0]: (en_sg,), forms[1]: (en_sg,), forms[2]: (en_pl,), forms[3]: (en_pl,)})
    for sg, pl, en_sg, en_pl in TRANSITIVE + INTRANSITIVE:
        lex[sg], lex[pl] = (en_sg,), (en_pl,)
    for es, en in PREPOSITIONS + FUNCTION_WORDS:
        lex[es] = tuple(en.split())
    return lex


def word_classes() -> dict[str, str]:
    """The class of every source word form: "noun", "adjective", "determiner", "verb",
    "preposition" or "function word" (que, y, del)."""
    out = {f: "noun" for sg, pl, *_ in NOUNS for f in (sg, pl)}
    out |= {f: "adjective" for forms, _, _ in ADJECTIVES for f in forms}
    out |= {f: "determiner" for forms, _ in DETERMINERS for f in forms}
    out |= {f: "verb" for sg, pl, _, _ in TRANSITIVE + INTRANSITIVE for f in (sg, pl)}
    out |= {es: "preposition" for es, _ in PREPOSITIONS}
    out |= {es: "function word" for es, _ in FUNCTION_WORDS}
    return out
