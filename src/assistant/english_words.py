"""Ordinary English words, for one question only: is a Latin-script phrase in a report
a name? ("Lai Chau" is; "Party Committee" is not.) A general vocabulary of government
and administrative words. It bridges nothing: English questions reach the Urdu
reports through the encoder (dense retrieval and token matching, `token_states.py`),
not through a word list. (It was once the English half of a hand-written glossary,
whose bridge was removed because its words had grown to match our own eval questions.)"""

ENGLISH_WORDS = frozenset(
    """
achievements administration administrative admitted agencies agency anniversary apparatus award awarded billion
book budget cadre cadres central certificate certificates chair chaired chairman chairwoman chief cities city
civil class commission committee committees commune communes comrade conference conferences congress council day
decision delegates democracy department departments deputies deputy digital digitalization digitised digitized
director dissolved district districts document documents economic economy election elections employee employees
emulation ended example examples fatherland files first flag flood founding front goal government grassroots
growth handled head heads households incoming index infrastructure inspection issued labor labour last law
leader leaders level mass medal meeting meetings member members merged merger merit million ministry
mobilization model models month months movement national new newly office offices officials online organisation
organization outgoing page pages papers party people peoples percent percentage period person places plan plenum
points poor position post poverty presented presided president procedure procedures program programme project
projects province provinces provincial public rank ranked ranking rate rearrangement receive received records
reform reforms report resolution resolved restructuring result results revenue satisfaction score second
secretary sent servant servants served service services session settled share skilled society speeches spoke
staff standing state storm streamlining survey target targets task tasks tenure term third thousand town towns
traditional transformation union vice village ward wards women work worked working wound year years youth
""".split()
)
