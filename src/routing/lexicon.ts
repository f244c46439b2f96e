/*
 * The words the classifier looks for, by signal, in the languages Meridian's users write in most (English,
 * Spanish, French, German, Portuguese, Italian, Dutch, Russian, Polish, Chinese, Japanese, Korean).
 *
 * - `word`: a whole word, case-insensitive; hyphens and dots separate words (`step-by-step` is `step by step`).
 * - `two words`, `three word phrase`: consecutive words.
 * - `stem*`: any word starting with the stem (inflected languages: `calcul*` is calcula, calculer, calcular).
 * - Chinese, Japanese and Korean terms of 2 to 4 characters match anywhere (those scripts have no spaces).
 */

// biome-ignore format: word lists read best packed
export const CODE_WORDS = [
  'code', 'coding', 'source code', 'function', 'functions', 'bug', 'bugs', 'debug*', 'compiler', 'compile',
  'compiles', 'compilation', 'stack trace', 'stacktrace', 'traceback', 'exception', 'refactor*', 'regex*',
  'regular expression', 'sql', 'python', 'javascript', 'typescript', 'java', 'rust', 'golang', 'kotlin',
  'swift', 'php', 'ruby', 'scala', 'haskell', 'elixir', 'bash', 'shell script', 'powershell', 'dockerfile',
  'docker', 'kubernetes', 'k8s', 'terraform', 'helm', 'ansible', 'nginx', 'git', 'github', 'gitlab', 'npm',
  'pip', 'maven', 'gradle', 'webpack', 'unit test', 'unit tests', 'pytest', 'junit', 'syntax',
  'null pointer', 'nullpointerexception', 'segfault', 'segmentation fault', 'async', 'await', 'callback',
  'recursion', 'recursive', 'json schema', 'api', 'apis', 'endpoint', 'endpoints', 'frontend', 'backend',
  'react', 'vue', 'angular', 'django', 'flask', 'fastapi', 'spring boot', 'node js', 'nodejs', 'pandas',
  'numpy', 'pyspark', 'kafka', 'redis', 'postgres', 'postgresql', 'mysql', 'mongodb', 'graphql', 'oauth', 'jwt',
  'cors', 'websocket', 'cron', 'snippet', 'programming', 'programmer', 'algorithm', 'data structure', 'hashmap',
  'hash map', 'linked list', 'binary tree', 'big o', 'mutex', 'deadlock', 'race condition', 'memory leak',
  'pull request', 'merge conflict', 'linter', 'runtime error', 'excel formula', 'vba', 'implement',
  'implementation', 'compile error', 'build fails', 'rebase', 'docker compose', 'environment variable',
  'env var', 'off by one', 'time complexity', 'localhost', 'stdout', 'stderr', 'sudo', 'chmod', 'iptables', 'kubectl',
  'curl', 'yarn', 'pnpm', 'cargo', 'código', 'programación', 'función', 'fonction', 'funktion', 'programmier*',
  'codice', 'funzione', 'код', 'функци*', 'программ*', '代码', '函数', '编程', '报错', 'コード', '関数', 'プログラム', '코드', '함수',
  '프로그램',
]

/** Words that lean towards code but also appear elsewhere ("commit to a plan", "a travel package"). */
// biome-ignore format: word lists read best packed
export const TECH_WORDS = [
  'http', 'script', 'linux', 'server', 'database', 'thread', 'commit', 'branch', 'repo', 'repository', 'pipeline',
  'lint', 'runtime', 'variable', 'variables', 'loop', 'array', 'string', 'integer', 'boolean', 'method',
  'class', 'object', 'interface', 'struct', 'enum', 'module', 'package', 'dependency', 'library', 'framework',
  'sdk', 'cli', 'ide', 'css', 'html', 'dom', 'query', 'queries', 'index', 'schema', 'migration', 'orm', 'macro',
  'app', 'deploy*', 'cloud', 'aws', 'azure', 'gcp', 'lambda', 'container', 'microservice*', 'latency', 'cache',
  'config*', 'log', 'logs', 'error', 'errors', 'crash*', 'version', 'install*', 'merge',
]

/** Logic, proof and puzzle words. */
// biome-ignore format: word lists read best packed
export const LOGIC_WORDS = [
  'prove', 'proof', 'proves', 'theorem', 'lemma', 'derive', 'derivation', 'induction', 'contradiction',
  'puzzle', 'riddle', 'logic', 'logical', 'deduce', 'deduction', 'knight', 'knights', 'knaves', 'liar', 'liars',
  'truth teller', 'truth tellers', 'lying', 'step by step', 'show your work', 'show the steps',
  'reason through', 'work out', 'figure out', 'monty hall', 'paradox', 'game theory', 'nash equilibrium',
  'dominant strategy', 'fair game', 'invariant', 'pigeonhole', 'demuestr*', 'demostra*', 'paso a paso',
  'razonamiento', 'prouve*', 'prouver', 'démontr*', 'preuve', 'récurrence', 'étape par étape', 'raisonnement',
  'beweis*', 'schritt für schritt', 'herleit*', 'dimostra*', 'passo a passo', 'passo per passo', 'ragionamento',
  'bewijs*', 'stap voor stap', 'докаж*', 'доказ*', 'по шагам', 'пошагов*', 'логик*', 'udowodnij',
  'krok po kroku', '证明', '推理', '逐步', '一步一步', '步骤', '谜题', '証明', '推論', '段階的', 'ステップ', '論理', '증명', '추론', '단계별',
  '논리',
]

/** Asking for a number: quantities, probabilities, rates, geometry. */
// biome-ignore format: word lists read best packed
export const QUANTITY_WORDS = [
  'how many', 'how much', 'how long', 'how far', 'how fast', 'how often', 'how likely', 'chance', 'chances',
  'likelihood', 'on average', 'expected', 'probability', 'probabilities', 'odds', 'expected value', 'variance',
  'standard deviation', 'calculate', 'compute', 'solve', 'estimate', 'percentage', 'percent', 'ratio',
  'compound', 'interest', 'annual growth', 'cagr', 'npv', 'irr', 'payback', 'break even', 'angle', 'area',
  'volume', 'distance', 'speed', 'velocity', 'equation', 'integral', 'derivative', 'combinations',
  'permutations', 'arrangements', 'how many ways', 'triangle', 'circle', 'radius', 'diameter', 'perimeter',
  'hypotenuse', 'bisector', 'polygon', 'parabola', 'slope', 'cuánto', 'cuánta', 'cuántos', 'cuántas', 'calcul*',
  'probabilidad', 'resuelve', 'combien', 'probabilité', 'résou*', 'wie viel', 'wie viele', 'berechn*',
  'wahrscheinlichkeit', 'quanto', 'quanta', 'quanti', 'quante', 'calcola*', 'probabilità', 'hoeveel',
  'bereken*', 'kans', 'quantos', 'quantas', 'сколько', 'вычисл*', 'вероятност*', 'посчита*', 'угол', 'ile',
  'oblicz*', 'prawdopodobie*', '多少', '几个', '计算', '概率', '求解', 'いくつ', '何通り', '何人', '何個', '何分', '何回', '何時間', '分速', '時速', '計算', '確率', '求め', '몇',
  '계산', '확률', '구하',
]

/** Optimising a choice. */
// biome-ignore format: word lists read best packed
export const OPTIMIZE_WORDS = [
  'cheapest', 'minimise', 'minimize', 'minimising', 'minimizing', 'maximise', 'maximize', 'maximising',
  'maximizing', 'optimal', 'optimise', 'optimize', 'best combination', 'most efficient', 'fewest', 'least cost',
  'lowest total', 'fit these', 'fit them', 'fit everything', 'fit all', 'better deal', 'worth it', 'trade off',
  'tradeoff', 'más barato', 'minimiz*', 'maximiz*', 'óptim*', 'moins cher', 'minimis*', 'günstigst*',
  'minimier*', 'maximier*', 'più economico', 'ottimal*', 'goedkoopst*', 'дешевле', 'оптималь*', 'минимиз*',
  '最便宜', '最优', '最小', '最大', '最安', '最適', '최적', '최소',
]

/** Constraints: the shape of a planning problem. */
// biome-ignore format: word lists read best packed
export const CONSTRAINT_WORDS = [
  'constraint', 'constraints', 'condition', 'conditions', 'rule', 'rules', 'requirement', 'requirements',
  'must', 'mustn\'t', 'cannot', 'can\'t', 'can not', 'won\'t', 'at least', 'at most', 'no more than',
  'no fewer than', 'not before', 'not after', 'no later than', 'only if', 'unless', 'exactly', 'available',
  'availability', 'deadline', 'budget of', 'capacity', 'next to', 'not adjacent', 'directly left',
  'directly right', 'restricci*', 'condici*', 'debe', 'como máximo', 'como mínimo', 'contrainte*', 'doit',
  'au plus', 'au moins', 'bedingung*', 'muss', 'höchstens', 'mindestens', 'vincol*', 'deve', 'al massimo',
  'almeno', 'voorwaarde*', 'moet', 'hoogstens', 'minstens', 'услови*', 'должн*', 'не более', 'не менее',
  'warun*', 'musi', '条件', '必须', '不能', '至少', '最多', '制約', '必ず', '以内', 'までに', '以上', '조건', '반드시', '이내', '이상',
]

/** Planning a schedule, a route, an allocation. */
// biome-ignore format: word lists read best packed
export const PLANNING_WORDS = [
  'schedule', 'scheduling', 'itinerary', 'timetable', 'roster', 'rota', 'seating', 'allocate', 'allocation',
  'assign', 'assignment', 'shift', 'shifts', 'route', 'routing', 'plan a', 'plan the', 'plan my', 'plan our',
  'time slot', 'slot', 'slots', 'sequence', 'ordering', 'critical path', 'dependencies', 'gantt', 'horario',
  'itinerario', 'planifica*', 'asigna*', 'emploi du temps', 'itinéraire', 'planifie*', 'répartir', 'zeitplan',
  'dienstplan', 'reiseroute', 'verteil*', 'orario', 'pianifica*', 'assegna*', 'rooster', 'planning', 'verdeel*',
  'расписани*', 'маршрут*', 'распредел*', 'harmonogram', '日程', '行程', '安排', '分配', 'スケジュール', '割り当て', '일정', '배정',
]

/** Synthesis across sources. */
// biome-ignore format: word lists read best packed
export const SYNTHESIS_WORDS = [
  'compare', 'comparing', 'comparison', 'contrast', 'synthesise', 'synthesize', 'synthesis', 'reconcile',
  'consolidate', 'cross reference', 'across the', 'across these', 'across all', 'across both', 'common themes',
  'recurring themes', 'contradiction', 'contradictions', 'discrepancy', 'discrepancies', 'inconsistency',
  'inconsistencies', 'all of this', 'all of the above', 'everything we discussed', 'everything above',
  'everything so far', 'pull it together', 'pull this together', 'pull everything together', 'compar*',
  'sintetiz*', 'consolid*', 'contradic*', 'discrepanc*', 'synthès*', 'vergleich*', 'zusammenführ*',
  'widersprüch*', 'sintesi', 'confront*', 'vergelijk*', 'сравн*', 'сопостав*', 'противореч*', 'porówn*', '综合',
  '比较', '对比', '矛盾', '汇总', '総合', '比較', 'まとめ', '종합', '비교', '모순', '정리',
]

/** Breadth: a report, a review, research. */
// biome-ignore format: word lists read best packed
export const RESEARCH_WORDS = [
  'literature review', 'systematic review', 'state of the evidence', 'state of research', 'state of the art',
  'research brief', 'research report', 'research overview', 'research summary', 'white paper', 'whitepaper',
  'report', 'memo', 'briefing', 'brief', 'due diligence', 'market analysis', 'market research', 'market sizing',
  'market landscape', 'market overview', 'competitive analysis', 'competitive landscape', 'competitor analysis',
  'policy analysis', 'swot', 'strategy document', 'business case', 'comprehensive', 'in depth', 'thorough',
  'detailed analysis', 'deep dive', 'executive summary', 'board paper', 'prd', 'design document', 'proposal',
  'findings', 'implications', 'recommendation', 'recommendations', 'informe', 'análisis',
  'revisión de la literatura', 'exhaustiv*', 'rapport', 'analyse', 'revue de littérature', 'approfondi*',
  'note de synthèse', 'bericht', 'gutachten', 'umfassend*', 'ausführlich*', 'relazione', 'analisi', 'rapporto',
  'approfondit*', 'verslag', 'отчёт', 'отчет', 'анализ*', 'обзор*', 'докладн*', 'raport', 'analiz*', '报告', '分析',
  '调研', '研究', '综述', '報告書', '調査', 'レポート', '보고서', '분석', '조사',
]

/** Simple transformations of given text. */
// biome-ignore format: word lists read best packed
export const TRANSFORM_WORDS = [
  'translate', 'translation', 'proofread', 'rewrite', 'rephrase', 'paraphrase', 'reformat', 'convert',
  'extract', 'classify', 'categorise', 'categorize', 'tag', 'label', 'sentiment', 'spellcheck', 'spell check',
  'correct grammar', 'tldr', 'tl dr', 'shorten', 'make it shorter', 'caption', 'describe this image',
  'describe the image', 'describe this photo', 'tradu*', 'reescrib*', 'extrae', 'clasific*', 'traduis*',
  'réécri*', 'extrai*', 'übersetz*', 'umschreib*', 'extrahier*', 'tradurr*', 'riscriv*', 'estrai*', 'vertaal*',
  'herschrijf*', 'переведи', 'перевод*', 'перепиши', 'przetłumacz*', '翻译', '翻訳', '改写', '提取', '抽出', '번역', '요약',
]

/** First words of a line that start source code. */
// biome-ignore format: word lists read best packed
export const CODE_LINE_STARTS = [
  'def', 'class', 'import', 'from', 'function', 'const', 'let', 'var', 'public', 'private', 'protected', 'func',
  'fn', 'package', 'elif', 'println', 'console', 'return', 'struct', 'impl', 'export', 'select',
]

/** Words that in capitals are SQL. */
// biome-ignore format: word lists read best packed
export const SQL_KEYWORDS = [
  'select', 'where', 'having', 'join', 'group', 'order', 'insert', 'values', 'null',
]

/** File extensions of source and config files (`app.py`, `ci.yml`). */
// biome-ignore format: word lists read best packed
export const CODE_EXTENSIONS = [
  'py', 'js', 'ts', 'tsx', 'jsx', 'java', 'go', 'rs', 'rb', 'php', 'cs', 'cpp', 'kt', 'swift', 'yaml', 'yml',
  'json', 'sql', 'sh', 'tf', 'toml', 'ini', 'env', 'lock', 'gradle', 'xml', 'vue', 'dart', 'scala', 'ipynb',
]

/** First words of a line that start a document inside a prompt. */
// biome-ignore format: word lists read best packed
export const DOC_LINE_STARTS = [
  'document', 'doc', 'report', 'article', 'source', 'study', 'ticket', 'transcript', 'exhibit', 'appendix',
  'attachment', 'interview', 'proposal', 'policy', 'email', 'from', 'subject', 'minutes', 'documento',
  'dokument', 'résumé', 'anexo', 'annexe', 'anlage', 'allegato', 'bijlage',
]
