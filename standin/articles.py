"""The articles of the local stand-in of www.elciudadano.com.

Each entry is what WordPress knows of a post; standin/templates.py renders it with the
tagDiv theme's markup (SITE.md). `body` is the post content as the theme prints it, repeated
standfirst, hard wraps, ads and embeds included: the parser has to clean it.
"""

from __future__ import annotations

SEED_BODY = """
<p>El presidencial concretó un llamado con el mandatario argentino en un movimiento estratégico para consolidar el voto de derecha y ultraliberal.</p>
<p>Tras asegurar su paso al balotaje contra la candidata del oficialismo Jeannette Jara, el abanderado del Partido Republicano, José Antonio Kast, realizó una jugada política durante el martes 18 de noviembre, contactando a los presidentes de Argentina y de Paraguay. Este «telefonazo» se ejecutó en medio de su despliegue de campaña por el sur del país, buscando levantar un eje de apoyo internacional de cara a la segunda vuelta.</p>
<div class="td-a-rec td-a-rec-id-content_inline tdi_3 td_block_template_1"><div class="td-all-devices"><a href="https://ads.example.invalid/click"><img src="https://www.elciudadano.com/wp-content/uploads/banner-300x250.jpg" alt="Publicidad"></a></div></div>
<p>Kast se encargó de hacer pública la conversación con Milei a través de sus redes sociales, destacando una supuesta sintonía profunda con el líder trasandino. El gesto se lee como una declaración de principios, subrayando una agenda que promete más «libertad, seguridad y progreso económico», lemas que resuenan directamente con la ideología de La Libertad Avanza.</p>
<p><strong>Lee también:</strong> <a href="https://www.elciudadano.com/politica/jara-y-kast-se-enfrentaran-en-segunda-vuelta/11/17/">Jara y Kast se enfrentarán en segunda vuelta</a></p>
<p>Esta conexión entre Kast y Milei no es reciente, ya que el presidencial había manifestado su apoyo al argentino durante su campaña en 2023 y han coincidido en diversos encuentros internacionales de derecha. De hecho, tras la publicación de Kast, el propio Milei la reposteó con el mensaje: «¡La libertad de América avanza!», estableciendo un claro respaldo público a la candidatura del republicano. Cabe señalar que el mandatario de Argentina se encuentra en medio de los cuestionamientos por los escándalos de estafa que salpican a su hermana Karina Milei.</p>
<blockquote class="twitter-tweet" data-width="550"><p lang="es" dir="ltr">Acabo de tener una muy buena conversación con el Presidente de Argentina <a href="https://twitter.com/JMilei">@JMilei</a>…</p>&mdash; José Antonio Kast (@joseantoniokast) <a href="https://twitter.com/joseantoniokast/status/1990000000000000000">November 18, 2025</a></blockquote>
<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>
<p>El candidato señaló que «Acabo de tener una muy buena conversación con el Presidente de Argentina Javier Milei con quien coincidimos en las enormes oportunidades que tiene América Latina y la relación entre Chile y Argentina hacia un futuro con más libertad, seguridad y progreso económico», afirmó. Esta articulación de un bloque regional de derecha radical tiene por objetivo movilizar al electorado más conservador y a los votantes de Franco Parisi, buscando capitalizar el descontento hacia las fuerzas de izquierda.</p>
<p>Paralelamente, Kast también se comunicó con el presidente paraguayo Santiago</p>
<p>Peña, de línea conservadora, con quien también abordó los desafíos y</p>
<p>oportunidades futuras entre ambas naciones.</p>
<p>Este movimiento estratégico, sumado a los apoyos internos ya confirmados de</p>
<p>figuras como Evelyn Matthei y Johannes Kaiser, se da en un momento crucial de la</p>
<p>campaña. Al exhibir esta red de contactos internacionales de derecha, el candidato</p>
<p>proyecta una imagen de solidez y unificación ideológica.</p>
<p><strong>Fuente: El Ciudadano</strong></p>
"""

ARTICLES: list[dict] = [
    {
        "key": "seed-kast-milei",
        "path": "/actualidad/kast-sella-alianza-ideologica-con-milei-a-semanas-de-la-segunda-vuelta/11/21/",
        "wp_id": 1195873,
        "title": "Kast sella alianza ideológica con Milei a semanas de la segunda vuelta",
        "subtitle": "El presidencial concretó un llamado con el mandatario argentino en un movimiento estratégico para consolidar el voto de derecha y ultraliberal.",
        "section": ("Actualidad", "actualidad"),
        "categories": [("Actualidad", "actualidad"), ("Política", "politica")],
        "tags": ["José Antonio Kast", "Javier Milei", "Segunda vuelta"],
        "authors": ["El Ciudadano"],
        "published": "2025-11-21T10:15:00-03:00",
        "modified": "2025-11-21T11:02:37-03:00",
        "image": "https://www.elciudadano.com/wp-content/uploads/2025/11/kast-milei.jpg",
        "body": SEED_BODY,
    },
    {
        "key": "chile-tiltil-relave",
        "path": "/chile/comunidades-de-tiltil-denuncian-nuevo-derrame-de-relave/07/14/",
        "wp_id": 1170412,
        "title": "Comunidades de Tiltil denuncian nuevo derrame de relave",
        "subtitle": "Vecinos acusan que la empresa minera no informó a tiempo del incidente.",
        "section": ("Chile", "chile"),
        "categories": [("Chile", "chile"), ("Medio Ambiente", "medio-ambiente")],
        "tags": ["Tiltil", "Relaves", "Minería"],
        "authors": ["Camila Rojas"],
        # Yoast prints UTC here; 02:30 UTC on the 15th is 22:30 on the 14th in Santiago (UTC-4)
        "published": "2025-07-15T02:30:00+00:00",
        "modified": "2025-07-15T03:10:00+00:00",
        "image": "https://www.elciudadano.com/wp-content/uploads/2025/07/tiltil.jpg",
        "body": """
<p>Vecinos acusan que la empresa minera no informó a tiempo del incidente.</p>
<p>Las comunidades de Tiltil, en la Región Metropolitana, denunciaron este lunes un nuevo derrame de relave en las cercanías del estero Polpaico. Según los dirigentes, el material escurrió durante la madrugada y alcanzó un canal de regadío.</p>
<h2>Lo que exigen los vecinos</h2>
<ul>
<li>Una fiscalización inmediata de la Superintendencia del Medio Ambiente.</li>
<li>Monitoreo independiente del agua de riego.</li>
<li>Información pública sobre el plan de cierre del tranque.</li>
</ul>
<p><strong>Sigue leyendo:</strong> <a href="https://www.elciudadano.com/medio-ambiente/relaves-en-chile/03/02/">Relaves en Chile: el mapa del riesgo</a></p>
<figure class="wp-block-embed is-type-video is-provider-youtube"><div class="wp-block-embed__wrapper"><iframe title="Derrame en Tiltil" width="696" height="392" src="https://www.youtube.com/embed/abc123XYZ00" frameborder="0" allowfullscreen></iframe></div></figure>
<p>«No es la primera vez; llevamos años pidiendo que se cierre este depósito», dijo María Pizarro, vocera de la coordinadora local.</p>
<div class="td-a-rec td-a-rec-id-content_bottom"><span class="td-adspot-title">- Publicidad -</span><ins class="adsbygoogle"></ins></div>
<p>Fuente: Radio Biobío</p>
""",
    },
    {
        "key": "politica-pensiones-senado",
        "path": "/politica/la-reforma-de-pensiones-vuelve-al-senado/09/07/",
        "wp_id": 1181002,
        "title": "La política de pensiones vuelve al Senado tras el receso",
        "subtitle": "El oficialismo busca votar en general antes de fin de mes.",
        "section": ("Política", "politica"),
        "categories": [("Política", "politica")],
        "tags": ["Pensiones", "Senado"],
        "authors": ["Felipe Soto", "Daniela Muñoz"],
        # the night Chile moved its clocks forward (2025-09-07 00:00 -04 -> 01:00 -03)
        "published": "2025-09-07T04:30:00+00:00",
        "modified": None,
        "image": "https://www.elciudadano.com/wp-content/uploads/2025/09/senado.jpg",
        "body": """
<p>El Gobierno retomó la tramitación del proyecto de pensiones en la Comisión de Trabajo del Senado, con la intención de votarlo en general antes de que termine el mes.</p>
<p>La ministra del Trabajo sostuvo que el texto recoge los acuerdos alcanzados con parte de la oposición y que la política previsional «no puede seguir esperando».</p>
<h3>Los puntos en disputa</h3>
<p>La cotización adicional de cargo del empleador y el destino de esos fondos siguen siendo el centro de la discusión.</p>
<blockquote><p>«Estamos disponibles para un acuerdo, pero no a cualquier precio», afirmó un senador de oposición.</p></blockquote>
<p>Fuente: El Ciudadano</p>
""",
    },
    {
        "key": "mundo-cop30-belem",
        "path": "/mundo/cop30-cierra-sin-acuerdo-sobre-combustibles-fosiles/11/22/",
        "wp_id": 1196001,
        "title": "COP30 cierra sin acuerdo sobre combustibles fósiles",
        "subtitle": "La cumbre de Belém terminó con un texto que no menciona la salida del petróleo.",
        "section": ("Mundo", "mundo"),
        "categories": [("Mundo", "mundo"), ("Medio Ambiente", "medio-ambiente")],
        "tags": ["COP30", "Cambio climático", "Brasil"],
        "authors": ["Andrea Vial"],
        "published": "2025-11-22T19:40:00-03:00",
        "modified": "2025-11-23T08:00:00-03:00",
        "image": "https://www.elciudadano.com/wp-content/uploads/2025/11/cop30.jpg",
        "body": """
<p>La conferencia de las Naciones Unidas sobre el cambio climático cerró en Belém, Brasil, sin un compromiso explícito para abandonar los combustibles fósiles.</p>
<p>Más de ochenta países habían pedido una hoja de ruta para la transición, pero la presidencia brasileña optó por un texto de consenso.</p>
<p><strong>Te puede interesar:</strong> <a href="https://www.elciudadano.com/mundo/cop30-belem-claves/11/10/">Las claves de la COP30</a></p>
<p>Organizaciones ambientalistas calificaron el resultado como una oportunidad perdida.</p>
""",
    },
    {
        "key": "en-lithium-salar",
        "path": "/en/indigenous-communities-challenge-lithium-expansion-in-atacama/10/03/",
        "wp_id": 1188220,
        "title": "Indigenous communities challenge lithium expansion in Atacama",
        "subtitle": "Atacameño councils say the water balance of the salt flat is at risk.",
        "section": ("English Edition", "en"),
        "categories": [("English Edition", "en"), ("Pueblos", "pueblos")],
        "tags": ["Lithium", "Atacama"],
        "authors": ["El Ciudadano"],
        "published": "2025-10-03T12:00:00-03:00",
        "modified": None,
        "image": None,
        "body": """
<p>Atacameño councils filed an appeal against the expansion of lithium brine extraction in the Salar de Atacama.</p>
<p>They argue that the environmental assessment underestimated the effect on lagoons that feed local agriculture.</p>
<p>Source: El Ciudadano</p>
""",
    },
    {
        "key": "de-wasser-petorca",
        "path": "/deustche/wasserkrise-in-petorca-bauern-fordern-hilfe/08/19/",
        "wp_id": 1176540,
        "title": "Wasserkrise in Petorca: Bauern fordern Hilfe",
        "subtitle": "Die Dürre verschärft sich im fünfzehnten Jahr in Folge.",
        "section": ("Deutsche Ausgabe", "deustche"),
        "categories": [("Deutsche Ausgabe", "deustche"), ("Chile", "chile")],
        "tags": ["Petorca", "Wasser"],
        "authors": ["Jonas Keller"],
        "published": "2025-08-19T09:05:00-04:00",
        "modified": None,
        "image": "https://www.elciudadano.com/wp-content/uploads/2025/08/petorca.jpg",
        "body": """
<p>Die Dürre verschärft sich im fünfzehnten Jahr in Folge.</p>
<p>Kleinbauern in der Provinz Petorca fordern von der Regierung Notlieferungen von Trinkwasser und eine Reform der Wasserrechte.</p>
<p>Quelle: El Ciudadano</p>
""",
    },
    {
        "key": "economia-cobre-precio",
        "path": "/economia/precio-del-cobre-alcanza-su-maximo-en-dos-anos/05/30/",
        "wp_id": 1160077,
        "title": "Precio del cobre alcanza su máximo en dos años",
        "subtitle": None,  # no standfirst block: the meta description is the excerpt
        "excerpt": "La demanda de China y la debilidad del dólar empujan el metal rojo.",
        "section": ("Economía", "economia"),
        "categories": [("Economía", "economia")],
        "tags": ["Cobre", "Codelco"],
        "authors": ["Rodrigo Fuentes"],
        "published": "2025-05-30T18:20:00-04:00",
        "modified": None,
        "image": "https://www.elciudadano.com/wp-content/uploads/2025/05/cobre.jpg",
        "body": """
<p>La demanda de China y la debilidad del dólar empujan el metal rojo.</p>
<p>El cobre cerró este viernes en la Bolsa de Metales de Londres a su mayor valor desde mayo de 2023, impulsado por la recuperación de la demanda china.</p>
<p>Analistas advierten que el alza podría moderarse si se confirman nuevos aranceles.</p>
""",
    },
    {
        # older Newspaper template: no JSON-LD, no time[datetime], only visible Spanish text
        "key": "cultura-old-template",
        "path": "/cultura/violeta-parra-en-el-museo-de-bellas-artes/03/03/",
        "wp_id": 161234,
        "template": "old",
        "title": "Violeta Parra en el Museo de Bellas Artes",
        "subtitle": None,
        "section": ("Cultura", "cultura"),
        "categories": [("Cultura", "cultura")],
        "tags": [],
        "authors": ["Equipo Cultura"],
        "published": "2015-03-03T10:30:00-03:00",
        "date_text": "martes 3 de marzo de 2015, 10:30",
        "modified": None,
        "image": None,
        "body": """
Una muestra reúne arpilleras, óleos y esculturas de Violeta Parra, la mayoría nunca exhibidas en Santiago.<br><br>
La exposición podrá visitarse hasta junio con entrada liberada.<br><br>
<p>Fuente: El Ciudadano</p>
""",
    },
    {
        "key": "salud-retry-once",
        "path": "/salud/hospitales-refuerzan-campana-de-invierno/06/02/",
        "wp_id": 1163300,
        "title": "Hospitales refuerzan campaña de invierno",
        "subtitle": "Se habilitarán 400 camas adicionales en la Región Metropolitana.",
        "section": ("Salud", "salud"),
        "categories": [("Salud", "salud")],
        "tags": ["Campaña de invierno"],
        "authors": ["El Ciudadano"],
        "published": "2025-06-02T08:00:00-04:00",
        "modified": None,
        "image": None,
        "flaky": 1,  # answers 503 this many times before the page
        "body": """
<p>Se habilitarán 400 camas adicionales en la Región Metropolitana.</p>
<p>El Ministerio de Salud anunció el refuerzo de la red asistencial ante el aumento de virus respiratorios.</p>
""",
    },
    {
        # a page that lost its date in a broken theme update: archived as a failure, not stored
        "key": "deportes-no-date",
        "path": "/deportes/colo-colo-presenta-a-su-nuevo-entrenador/01/10/",
        "wp_id": 1140001,
        "template": "nodate",
        "title": "Colo-Colo presenta a su nuevo entrenador",
        "subtitle": None,
        "section": ("Deportes", "deportes"),
        "categories": [("Deportes", "deportes")],
        "tags": [],
        "authors": ["El Ciudadano"],
        "published": "2025-01-10T12:00:00-03:00",  # known to WordPress, missing from the page
        "modified": None,
        "image": None,
        "body": "<p>El club albo presentó a su nuevo director técnico en el estadio Monumental.</p>",
    },
]


def by_key(key: str) -> dict:
    return next(a for a in ARTICLES if a["key"] == key)


def new_article(number: int, published: str) -> dict:
    """A plain new post, as the newsroom publishes 30-40 a day: for tests that add posts
    between two runs. Its text is written out here, so a test knows what a reader sees."""
    return {
        "key": f"nueva-{number}",
        "path": f"/chile/nota-nueva-numero-{number}/{published[5:7]}/{published[8:10]}/",
        "wp_id": 1_300_000 + number,
        "title": f"Nota nueva número {number}",
        "subtitle": f"La bajada de la nota número {number}.",
        "section": ("Chile", "chile"),
        "categories": [("Chile", "chile")],
        "tags": ["Notas nuevas"],
        "authors": ["Redacción"],
        "published": published,
        "modified": published,
        "image": None,
        "body": f"<p>La bajada de la nota número {number}.</p>\n"
        f"<p>El primer párrafo de la nota número {number} cuenta lo que pasó.</p>\n",
    }


def edited(article: dict, modified: str, title: str) -> dict:
    """The same post after an editor changed its headline (WordPress updates its modified)."""
    return {**article, "title": title, "modified": modified}
