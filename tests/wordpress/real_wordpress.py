"""A real WordPress on 127.0.0.1, from Debian's packages (wordpress, wordpress-l10n for the
es_CL locale, mariadb-server, php-cli, php-mysql, php-xml, wordpress-theme-twentytwentythree): a MariaDB of its own in a temporary
folder, WordPress copied beside it and installed with El Ciudadano's permalinks, time zone and
standfirst field, served by PHP's built-in server. Everything it starts it stops.

    with RealWordPress() as wp:
        wp.insert_post(...)
        crawl(base_url=wp.base_url)
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

WORDPRESS = Path("/usr/share/wordpress")
PERMALINKS = "/%category%/%postname%/%monthnum%/%day%/"

# The standfirst as El Ciudadano's REST API shows it (ACF's field, SITE.md): a must-use plugin.
ACF_PLUGIN = """<?php
add_action('rest_api_init', function () {
    register_rest_field('post', 'acf', array('get_callback' => function ($post) {
        return array('bajada_titulo' => (string) get_post_meta($post['id'], 'bajada_titulo', true),
                     'resume' => '');
    }));
});
"""

ROUTER = """<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path !== '/' && file_exists(__DIR__ . $path) && !is_dir(__DIR__ . $path)) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
require __DIR__ . '/index.php';
"""


class WordPressUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RealWordPress:
    def __init__(self, theme: str = "twentytwentythree"):
        missing = [
            p
            for p in (WORDPRESS, Path("/usr/sbin/mariadbd"), Path("/usr/bin/php"))
            if not p.exists()
        ]
        if missing:
            raise WordPressUnavailable(f"not installed: {', '.join(map(str, missing))}")
        self.theme = theme
        self.tmp = Path(tempfile.mkdtemp(prefix="ciudadano-wordpress-"))
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.socket = self.tmp / "mysqld.sock"
        self.root = self.tmp / "wordpress"
        self._db: subprocess.Popen | None = None
        self._web: subprocess.Popen | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> RealWordPress:
        try:
            self._start_database()
            self._install_wordpress()
            self._start_web()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        for process in (self._web, self._db):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _start_database(self) -> None:
        data = self.tmp / "mysql"
        subprocess.run(
            [
                "mariadb-install-db",
                f"--datadir={data}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self._db = subprocess.Popen(
            [
                "/usr/sbin/mariadbd",
                "--no-defaults",
                f"--datadir={data}",
                "--user=root",
                f"--socket={self.socket}",
                "--skip-networking",
                f"--pid-file={self.tmp}/db.pid",
                f"--log-error={self.tmp}/db.log",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while (
            subprocess.run(
                ["mariadb", f"--socket={self.socket}", "-uroot", "-e", "select 1"],
                capture_output=True,
            ).returncode
            != 0
        ):
            if self._db.poll() is not None or time.monotonic() > deadline:
                raise WordPressUnavailable((self.tmp / "db.log").read_text()[-2000:])
            time.sleep(0.2)
        self.sql("CREATE DATABASE wordpress CHARACTER SET utf8mb4")

    def sql(self, statement: str) -> str:
        return subprocess.run(
            ["mariadb", f"--socket={self.socket}", "-uroot", "-N", "-e", statement],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def _install_wordpress(self) -> None:
        shutil.copytree(
            WORDPRESS, self.root, symlinks=False, ignore=shutil.ignore_patterns("wp-config.php")
        )
        (self.root / "wp-config.php").write_text(f"""<?php
define('DB_NAME', 'wordpress'); define('DB_USER', 'root'); define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:{self.socket}'); define('DB_CHARSET', 'utf8mb4');
define('WP_HOME', '{self.base_url}'); define('WP_SITEURL', '{self.base_url}');
define('WP_CONTENT_DIR', __DIR__ . '/wp-content'); define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true); define('DISABLE_WP_CRON', true);
$table_prefix = 'wp_';
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
""")
        mu = self.root / "wp-content" / "mu-plugins"
        mu.mkdir(parents=True, exist_ok=True)
        (mu / "acf-standfirst.php").write_text(ACF_PLUGIN)
        (self.root / "router.php").write_text(ROUTER)
        self.php(f"""
define('WP_INSTALLING', true);
require 'wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
wp_install('El Ciudadano', 'admin', 'admin@example.invalid', true, '', 'secret', 'es_CL');
update_option('permalink_structure', '{PERMALINKS}');
update_option('timezone_string', 'America/Santiago');
update_option('WPLANG', 'es_CL');
update_option('posts_per_rss', 10);
update_option('rss_use_excerpt', 0);
switch_theme('{self.theme}');
wp_delete_post(1, true);  // "Hello world!"
wp_delete_post(2, true);  // the sample page
""")

    def php(self, code: str) -> str:
        result = subprocess.run(
            ["php", "-d", "display_errors=stderr", "-r", f"chdir('{self.root}'); " + code],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"php failed: {result.stderr[-2000:]}")
        return result.stdout

    def _start_web(self) -> None:
        self._web = subprocess.Popen(
            [
                "php",
                "-S",
                f"127.0.0.1:{self.port}",
                "-t",
                str(self.root),
                str(self.root / "router.php"),
            ],
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self._web.poll() is not None or time.monotonic() > deadline:
                    raise WordPressUnavailable("php -S did not start") from None
                time.sleep(0.1)

    # -- content --------------------------------------------------------------------------------
    def insert_post(self, post: dict) -> int:
        """A post as the newsroom publishes it: title, content, standfirst (ACF field), local
        publication time (Santiago), categories (name, slug) with the primary first, tags,
        author display name, status (publish, draft, private)."""
        payload = json.dumps(post, ensure_ascii=False)
        out = self.php(
            """
require 'wp-load.php';
$p = json_decode(<<<'JSON'
"""
            + payload
            + """
JSON, true);
$cats = array();
foreach ($p['categories'] as $c) {
    $term = term_exists($c[1], 'category');
    if (!$term) { $term = wp_insert_term($c[0], 'category', array('slug' => $c[1])); }
    $cats[] = (int) $term['term_id'];
}
$user = get_user_by('login', sanitize_user($p['author']));
if (!$user) {
    $uid = wp_insert_user(array('user_login' => sanitize_user($p['author']), 'user_pass' => 'x',
        'display_name' => $p['author'], 'role' => 'author'));
} else { $uid = $user->ID; }
$id = wp_insert_post(array('post_title' => $p['title'], 'post_content' => $p['content'],
    'post_status' => $p['status'], 'post_date' => $p['date'], 'post_category' => $cats,
    'tags_input' => $p['tags'], 'post_author' => $uid, 'post_name' => $p['slug']), true);
if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }
if (!empty($p['standfirst'])) { update_post_meta($id, 'bajada_titulo', $p['standfirst']); }
echo $id;
"""
        )
        return int(out.strip())

    def update_post(self, post_id: int, **fields) -> None:
        payload = json.dumps(fields, ensure_ascii=False)
        self.php(
            """
require 'wp-load.php';
$f = json_decode(<<<'JSON'
"""
            + payload
            + """
JSON, true);
$f['ID'] = """
            + str(post_id)
            + """;
$r = wp_update_post($f, true);
if (is_wp_error($r)) { fwrite(STDERR, $r->get_error_message()); exit(1); }
"""
        )

    def permalink(self, post_id: int) -> str:
        return self.php(f"require 'wp-load.php'; echo get_permalink({post_id});").strip()
