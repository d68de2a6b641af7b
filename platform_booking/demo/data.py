"""The demo campus as literal tables (SPEC §9): people, partners, sites, equipment, projects.

loader.py creates them through the services; nothing here touches the database.
"""

from __future__ import annotations

from typing import Any

DEFAULT_PASSWORD = "demo-campus-2026"
EMAIL_DOMAIN = "example.org"

# The accounts to try the platform with, one per role (SPEC §1 and §6).
DEMO_LOGINS = (
    "admin",
    "manager",
    "gestionnaire",
    "enseignant",
    "chercheur",
    "industriel",
    "referent",
)

# username, first name, last name, is_staff, is_superuser
USERS: tuple[tuple[str, str, str, bool, bool], ...] = (
    ("admin", "Sophie", "Lefèvre", True, True),  # platform manager, superuser
    ("manager", "Julien", "Moreau", True, False),  # platform manager
    ("gestionnaire", "Nathalie", "Girard", False, False),  # manages the We Lab equipment
    ("enseignant", "Pierre", "Rousseau", False, False),  # Université d'Orléans teacher
    ("chercheur", "Claire", "Dubois", False, False),  # CNRS researcher
    ("industriel", "Marc", "Lambert", False, False),  # Servier
    ("referent", "Isabelle", "Fontaine", False, False),  # Université d'Orléans referent
    ("prof.lycee", "Anne", "Mercier", False, False),  # Lycée Jean Zay teacher
    ("formateur", "Olivier", "Chevalier", False, False),  # AFPA trainer
    ("etudiant", "Léa", "Martin", False, False),  # Licence pro student
    ("doctorant", "Hugo", "Bernard", False, False),  # PhD student
    ("ingenieur", "Camille", "Petit", False, False),  # engineer, manages the Tours equipment
    ("technicien", "Karim", "Benali", False, False),  # technician, manages Chartres-Dreux
    ("ingenieure.oreal", "Emma", "Faure", False, False),  # L'Oréal
)

SITES = (
    ("We Lab Orléans", "Orléans", "1 rue de Chartres, 45100 Orléans"),
    ("Plateau Tours", "Tours", "31 avenue Monge, 37200 Tours"),
    ("Plateau Chartres-Dreux", "Chartres", "21 rue de Loigny-la-Bataille, 28000 Chartres"),
)

CATEGORIES = (
    ("Chromatographie", "Séparation et dosage : HPLC, UHPLC-MS, chromatographie gazeuse."),
    ("Rhéologie", "Écoulement, viscosité et texture des formulations."),
    ("Émulsion et formulation", "Émulsionneurs et homogénéisateurs pour crèmes et lotions."),
    ("Lyophilisation", "Séchage à froid de produits pharmaceutiques et biologiques."),
    ("Compression", "Fabrication de formes sèches : comprimés et gélules."),
    ("Conditionnement", "Remplissage, blistérisation et étiquetage."),
    ("Stabilité", "Enceintes climatiques pour les études de stabilité ICH."),
    ("Granulométrie", "Taille et charge des particules et des gouttelettes."),
    ("Spectroscopie", "Identification et dosage par spectroscopie IR et UV-visible."),
    ("Biotechnologie", "Culture cellulaire et microbienne, stérilisation."),
    ("Formation maintenance", "Bancs pédagogiques de maintenance des lignes de production."),
)

# name, kind, rate category
PARTNERS = (
    ("Université d'Orléans", "university", "academic"),
    ("Université de Tours", "university", "academic"),
    ("CNRS", "research_lab", "academic"),
    ("AgroParisTech", "school", "academic"),
    ("Lycée Jean Zay – Orléans", "school", "academic"),
    ("Lycée Grandmont – Tours", "school", "academic"),
    ("AFPA Centre-Val de Loire", "training_body", "academic"),
    ("Cosmetic Valley", "cluster", "academic"),
    ("Polepharma", "cluster", "academic"),
    ("Servier", "company", "industrial"),
    ("L'Oréal", "company", "industrial"),
    ("Novo Nordisk", "company", "industrial"),
    ("Axyntis", "company", "industrial"),
)
PARTNER_REFERENTS = {"Université d'Orléans": ("referent",)}

WE_LAB, TOURS, CHARTRES = (site[0] for site in SITES)
TEACHING_WINDOWS = {
    "teaching_windows": [
        {"weekday": "tue", "start": "08:00", "end": "12:00"},
        {"weekday": "thu", "start": "08:00", "end": "12:00"},
    ]
}
STABILITY_POLICY = {"granularity_minutes": 30, "min_duration_minutes": 60}

# Rates are teaching / academic / industrial, in euros per hour.
EQUIPMENT: tuple[dict[str, Any], ...] = (
    # We Lab Orléans
    {
        "code": "WL-HPLC-01",
        "name": "Chaîne HPLC Agilent 1260 Infinity II",
        "category": "Chromatographie",
        "site": WE_LAB,
        "room": "A.104",
        "description": "Chaîne HPLC quaternaire avec détecteur à barrette de diodes, "
        "pour le dosage des actifs cosmétiques et pharmaceutiques.",
        "rates": (10, 45, 120),
        "requires_qualification": True,
        "requires_check_in": True,
        "owner": "Université d'Orléans",
    },
    {
        "code": "WL-HPLC-02",
        "name": "Chaîne HPLC Waters Alliance e2695",
        "category": "Chromatographie",
        "site": WE_LAB,
        "room": "A.104",
        "description": "Chaîne HPLC avec détecteurs UV et à indice de réfraction, "
        "utilisée pour les travaux pratiques et les contrôles qualité.",
        "rates": (10, 45, 120),
        "requires_qualification": True,
    },
    {
        "code": "WL-UHPLC-MS-01",
        "name": "UHPLC couplée à la spectrométrie de masse Orbitrap",
        "category": "Chromatographie",
        "site": WE_LAB,
        "room": "A.106",
        "description": "Système UHPLC couplé à un spectromètre de masse haute résolution "
        "pour l'identification d'impuretés et de métabolites.",
        "rates": (20, 80, 250),
        "requires_qualification": True,
        "requires_check_in": True,
        "owner": "CNRS",
        "policy": {"weekly_quota_hours": {"industrial": 10}},
    },
    {
        "code": "WL-GC-01",
        "name": "Chromatographe en phase gazeuse GC-FID",
        "category": "Chromatographie",
        "site": WE_LAB,
        "room": "A.105",
        "description": "Chromatographe en phase gazeuse à détection par ionisation de flamme "
        "pour l'analyse des parfums et des solvants résiduels.",
        "rates": (8, 35, 100),
        "requires_qualification": True,
    },
    {
        "code": "WL-EMUL-01",
        "name": "Émulsionneur sous vide 5 L",
        "category": "Émulsion et formulation",
        "site": WE_LAB,
        "room": "B.010 – hall de formulation",
        "description": "Cuve d'émulsification sous vide avec turbine et racleur "
        "pour la fabrication de crèmes et de gels à l'échelle pilote.",
        "rates": (5, 30, 90),
        "policy": TEACHING_WINDOWS,
    },
    {
        "code": "WL-HOMO-01",
        "name": "Homogénéisateur haute pression",
        "category": "Émulsion et formulation",
        "site": WE_LAB,
        "room": "B.010 – hall de formulation",
        "description": "Homogénéisateur haute pression pour la préparation de nanoémulsions "
        "et de dispersions fines.",
        "rates": (5, 30, 90),
    },
    {
        "code": "WL-VISC-01",
        "name": "Viscosimètre rotatif Brookfield",
        "category": "Rhéologie",
        "site": WE_LAB,
        "room": "B.012",
        "description": "Viscosimètre rotatif pour le contrôle de routine de la viscosité "
        "des lotions, shampooings et sirops.",
        "rates": (0, 20, 60),
    },
    {
        "code": "WL-GRAN-01",
        "name": "Granulomètre laser Mastersizer 3000",
        "category": "Granulométrie",
        "site": WE_LAB,
        "room": "A.107",
        "description": "Granulomètre à diffraction laser pour mesurer la taille des particules "
        "de poudres et d'émulsions, de 10 nm à 3,5 mm.",
        "rates": (8, 40, 110),
        "status": "maintenance",
    },
    {
        "code": "WL-ZETA-01",
        "name": "Zetasizer Nano ZS",
        "category": "Granulométrie",
        "site": WE_LAB,
        "room": "A.107",
        "description": "Mesure de la taille des nanoparticules et du potentiel zêta "
        "par diffusion dynamique de la lumière.",
        "rates": (8, 40, 110),
        "requires_qualification": True,
    },
    {
        "code": "WL-FTIR-01",
        "name": "Spectromètre FTIR-ATR",
        "category": "Spectroscopie",
        "site": WE_LAB,
        "room": "A.108",
        "description": "Spectromètre infrarouge à transformée de Fourier avec module ATR "
        "pour l'identification des matières premières.",
        "rates": (5, 25, 70),
    },
    {
        "code": "WL-UV-01",
        "name": "Spectrophotomètre UV-visible double faisceau",
        "category": "Spectroscopie",
        "site": WE_LAB,
        "room": "A.108",
        "description": "Spectrophotomètre UV-visible pour les dosages colorimétriques "
        "et la mesure de l'absorbance des filtres solaires.",
        "rates": (0, 20, 60),
    },
    # Plateau Tours
    {
        "code": "TO-RHEO-01",
        "name": "Rhéomètre rotatif Anton Paar MCR 302",
        "category": "Rhéologie",
        "site": TOURS,
        "room": "Bâtiment B, salle 2.15",
        "description": "Rhéomètre à contrainte imposée avec cellule Peltier "
        "pour caractériser l'écoulement et la viscoélasticité des formulations.",
        "rates": (10, 45, 130),
        "requires_qualification": True,
        "owner": "Université de Tours",
    },
    {
        "code": "TO-RHEO-02",
        "name": "Rhéomètre TA Instruments DHR-2",
        "category": "Rhéologie",
        "site": TOURS,
        "room": "Bâtiment B, salle 2.15",
        "description": "Rhéomètre hybride pour les mesures oscillatoires et de fluage "
        "sur gels, pâtes et émulsions.",
        "rates": (10, 45, 130),
    },
    {
        "code": "TO-TEXT-01",
        "name": "Analyseur de texture TA.XTplus",
        "category": "Rhéologie",
        "site": TOURS,
        "room": "Bâtiment B, salle 2.16",
        "description": "Texturomètre pour mesurer la fermeté, l'adhésivité et l'étalement "
        "des crèmes, baumes et rouges à lèvres.",
        "rates": (5, 30, 90),
    },
    {
        "code": "TO-STAB-01",
        "name": "Enceinte de stabilité 25 °C / 60 % HR",
        "category": "Stabilité",
        "site": TOURS,
        "room": "Bâtiment B, salle 2.20",
        "description": "Enceinte climatique aux conditions ICH de longue durée "
        "pour les études de stabilité des produits finis.",
        "rates": (2, 20, 60),
        "policy": STABILITY_POLICY,
    },
    {
        "code": "TO-STAB-02",
        "name": "Enceinte de stabilité 40 °C / 75 % HR",
        "category": "Stabilité",
        "site": TOURS,
        "room": "Bâtiment B, salle 2.20",
        "description": "Enceinte climatique aux conditions ICH accélérées "
        "pour les études de vieillissement des formulations.",
        "rates": (2, 20, 60),
        "policy": STABILITY_POLICY,
    },
    {
        "code": "TO-BIO-01",
        "name": "Bioréacteur Sartorius Biostat 5 L",
        "category": "Biotechnologie",
        "site": TOURS,
        "room": "Laboratoire L2, salle 1.03",
        "description": "Bioréacteur instrumenté pour la culture de micro-organismes "
        "et la production d'actifs biosourcés.",
        "rates": (15, 70, 200),
        "requires_qualification": True,
        "requires_check_in": True,
    },
    {
        "code": "TO-AUTO-01",
        "name": "Autoclave de paillasse 150 L",
        "category": "Biotechnologie",
        "site": TOURS,
        "room": "Laboratoire L2, salle 1.04",
        "description": "Autoclave pour la stérilisation des milieux de culture, "
        "de la verrerie et des déchets biologiques.",
        "rates": (0, 20, 60),
        "requires_check_in": True,
    },
    # Plateau Chartres-Dreux
    {
        "code": "CH-LYO-01",
        "name": "Lyophilisateur pilote Christ Epsilon 2-6D",
        "category": "Lyophilisation",
        "site": CHARTRES,
        "room": "Atelier pilote P.02",
        "description": "Lyophilisateur pilote à étagères pour la mise au point de cycles "
        "de lyophilisation de flacons et de vracs.",
        "rates": (15, 60, 180),
        "requires_qualification": True,
        "requires_check_in": True,
        "policy": {"buffer_minutes": 30},
    },
    {
        "code": "CH-COMP-01",
        "name": "Presse à comprimés rotative Korsch XL 100",
        "category": "Compression",
        "site": CHARTRES,
        "room": "Atelier pilote P.05",
        "description": "Presse rotative instrumentée pour la fabrication de lots pilotes "
        "de comprimés et l'étude de la compressibilité.",
        "rates": (10, 50, 160),
        "requires_qualification": True,
        "owner": "Polepharma",
    },
    {
        "code": "CH-GEL-01",
        "name": "Remplisseuse de gélules semi-automatique",
        "category": "Compression",
        "site": CHARTRES,
        "room": "Atelier pilote P.05",
        "description": "Remplisseuse de gélules de tailles 00 à 4 "
        "pour les lots cliniques et les travaux pratiques de galénique.",
        "rates": (8, 40, 120),
    },
    {
        "code": "CH-REMP-01",
        "name": "Ligne de remplissage de crèmes (tubes et pots)",
        "category": "Conditionnement",
        "site": CHARTRES,
        "room": "Hall de conditionnement C.01",
        "description": "Ligne de remplissage et de fermeture de tubes et de pots "
        "pour les crèmes et les gels cosmétiques.",
        "rates": (10, 60, 220),
        "requires_check_in": True,
        "owner": "Cosmetic Valley",
    },
    {
        "code": "CH-BLIS-01",
        "name": "Blistéreuse thermoformeuse",
        "category": "Conditionnement",
        "site": CHARTRES,
        "room": "Hall de conditionnement C.01",
        "description": "Machine de thermoformage et de scellage de blisters PVC/aluminium "
        "pour le conditionnement primaire des comprimés.",
        "rates": (10, 60, 220),
        "requires_check_in": True,
    },
    {
        "code": "CH-ETIQ-01",
        "name": "Étiqueteuse automatique",
        "category": "Conditionnement",
        "site": CHARTRES,
        "room": "Hall de conditionnement C.02",
        "description": "Étiqueteuse avec impression du lot et de la date de péremption "
        "pour flacons, tubes et étuis.",
        "rates": (5, 30, 80),
    },
    {
        "code": "CH-MAINT-01",
        "name": "Banc de formation à la maintenance industrielle",
        "category": "Formation maintenance",
        "site": CHARTRES,
        "room": "Atelier de maintenance M.01",
        "description": "Banc pédagogique reproduisant une ligne de production "
        "pour former aux diagnostics et à la maintenance préventive.",
        "rates": (0, 20, 60),
        "policy": TEACHING_WINDOWS,
    },
)
MANAGERS_BY_SITE = {WE_LAB: ("gestionnaire",), TOURS: ("ingenieur",), CHARTRES: ("technicien",)}
# The equipment manager of the We Lab also looks after the Chartres-Dreux lyophiliser.
EXTRA_MANAGERS = {"CH-LYO-01": ("gestionnaire",)}

# name, kind, partner, leader, other members, description, active period ("ended" or "current")
PROJECTS: tuple[tuple[str, str, str, str, tuple[str, ...], str, str], ...] = (
    (
        "Licence pro Cosmétique – TP formulation",
        "pedagogical",
        "Université d'Orléans",
        "enseignant",
        ("etudiant",),
        "Travaux pratiques de formulation d'émulsions et de gels en licence professionnelle.",
        "current",
    ),
    (
        "BTS Bioanalyses – TP chromatographie",
        "pedagogical",
        "Lycée Jean Zay – Orléans",
        "prof.lycee",
        (),
        "Initiation à l'HPLC et à la chromatographie gazeuse pour les étudiants de BTS.",
        "current",
    ),
    (
        "Bac pro Pilote de ligne – TP conditionnement",
        "pedagogical",
        "Lycée Grandmont – Tours",
        "enseignant",
        ("prof.lycee",),
        "Conduite des lignes de remplissage et d'étiquetage en travaux pratiques.",
        "current",
    ),
    (
        "Formation continue – maintenance des lignes de production",
        "pedagogical",
        "AFPA Centre-Val de Loire",
        "formateur",
        (),
        "Modules de maintenance préventive sur le banc pédagogique de Chartres.",
        "current",
    ),
    (
        "Formation continue – bonnes pratiques de fabrication (session close)",
        "pedagogical",
        "AFPA Centre-Val de Loire",
        "formateur",
        (),
        "Session de formation aux BPF, terminée.",
        "ended",
    ),
    (
        "Thèse – émulsions de Pickering",
        "research",
        "Université d'Orléans",
        "chercheur",
        ("doctorant",),
        "Stabilisation d'émulsions cosmétiques par des particules d'origine végétale.",
        "current",
    ),
    (
        "ANR – lyophilisation de biomolécules",
        "research",
        "CNRS",
        "chercheur",
        ("doctorant", "ingenieur"),
        "Optimisation des cycles de lyophilisation de protéines thérapeutiques.",
        "current",
    ),
    (
        "Texture des émulsions biosourcées",
        "research",
        "AgroParisTech",
        "ingenieur",
        ("chercheur",),
        "Rhéologie et analyse sensorielle instrumentale d'émulsions à base d'huiles locales.",
        "current",
    ),
    (
        "Servier – validation de méthode HPLC",
        "industrial",
        "Servier",
        "industriel",
        (),
        "Validation ICH Q2 d'une méthode de dosage d'un principe actif.",
        "current",
    ),
    (
        "Servier – essais de compression",
        "industrial",
        "Servier",
        "industriel",
        (),
        "Lots pilotes de comprimés et étude de la compressibilité d'un nouveau mélange.",
        "current",
    ),
    (
        "L'Oréal – stabilité de crèmes solaires",
        "industrial",
        "L'Oréal",
        "ingenieure.oreal",
        (),
        "Études de stabilité accélérée et de rhéologie de crèmes solaires.",
        "current",
    ),
)

# username, equipment codes, expired?
QUALIFICATIONS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("enseignant", ("WL-HPLC-01", "WL-HPLC-02"), False),
    ("prof.lycee", ("WL-HPLC-02", "WL-GC-01"), False),
    ("chercheur", ("WL-HPLC-01", "WL-UHPLC-MS-01", "TO-RHEO-01", "CH-LYO-01"), False),
    ("doctorant", ("WL-HPLC-01", "WL-ZETA-01", "TO-RHEO-01"), False),
    ("ingenieur", ("TO-BIO-01", "TO-RHEO-01", "CH-LYO-01"), False),
    ("industriel", ("WL-HPLC-01", "WL-HPLC-02", "CH-COMP-01"), False),
    ("ingenieure.oreal", ("TO-RHEO-01",), False),
    ("etudiant", ("WL-HPLC-02",), True),
)

# Slots (local hours) tried for demo bookings, and the equipment they are tried on.
DEMO_SLOTS = ((9, 12), (13, 17), (14, 16), (10, 11), (8, 10), (15, 18))
DEMO_EQUIPMENT = (
    "WL-HPLC-01",
    "WL-HPLC-02",
    "WL-UHPLC-MS-01",
    "TO-RHEO-01",
    "CH-LYO-01",
    "CH-COMP-01",
    "TO-BIO-01",
    "WL-ZETA-01",
    "WL-EMUL-01",
    "TO-FILL-01",
)

# Titles of the demo bookings, by project kind (followed by the project's short name).
DEMO_TITLES = {
    "pedagogical": "Séance de TP",
    "research": "Campagne de mesures",
    "industrial": "Essais partenaires",
}

# Why a demo booking was cancelled.
CANCEL_REASON = "Séance reportée"
