"""The course pages a person sees: French, accessible, and wired to real launches."""

from __future__ import annotations

from html.parser import HTMLParser

from demo_lms_peer import query_of
from flask.testing import FlaskClient


class _Page(HTMLParser):
    """Collects the elements the accessibility checks below look at."""

    def __init__(self) -> None:
        super().__init__()
        self.html_lang: str | None = None
        self.iframes: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.input_ids: list[str] = []
        self.h1 = 0
        self.viewport = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.html_lang = values.get("lang")
        elif tag == "iframe":
            self.iframes.append(values)
        elif tag == "a":
            self.links.append(values)
        elif tag == "label" and values.get("for"):
            self.label_for.add(str(values["for"]))
        elif tag in {"input", "select"} and values.get("type") != "hidden":
            self.input_ids.append(str(values.get("id")))
        elif tag == "h1":
            self.h1 += 1
        elif tag == "meta" and values.get("name") == "viewport":
            self.viewport = True


def _parse(client: FlaskClient, path: str) -> tuple[_Page, str]:
    response = client.get(path)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    page = _Page()
    page.feed(text)
    return page, text


def test_course_page_is_french_labelled_and_says_it_is_a_demo(client: FlaskClient) -> None:
    page, text = _parse(client, "/")

    assert page.html_lang == "fr"
    assert page.viewport
    assert page.h1 == 1
    assert "Formation continue — Compétences numériques" in text
    assert "pas un LMS de production" in text
    assert set(page.input_ids) <= page.label_for
    assert "Enseignant — Claire Martin" in text
    assert "Agent — Karim Benali" in text
    assert "Choisissez qui vous êtes" in text


def test_choosing_a_user_is_remembered_by_a_cookie(client: FlaskClient) -> None:
    response = client.get("/?utilisateur=agent&langue=en")
    assert "demo_lms_utilisateur=agent" in response.headers.getlist("Set-Cookie")[0]

    _, text = _parse(client, "/")

    assert "Vous êtes : <strong>Karim Benali</strong>" in text
    assert 'value="en" lang="en" selected' in text
    assert "Ajouter une activité Socle" not in text


def test_teacher_sees_the_add_button_and_agent_the_empty_course(client: FlaskClient) -> None:
    _, teacher = _parse(client, "/?utilisateur=enseignant")
    _, agent = _parse(client, "/?utilisateur=agent")

    assert "Ajouter une activité Socle" in teacher
    assert "L'enseignant doit d'abord ajouter une activité Socle" in agent


def test_activity_page_embeds_the_tool_and_offers_a_new_window(
    client: FlaskClient, activity_id: str
) -> None:
    page, _ = _parse(client, f"/activities/{activity_id}?utilisateur=agent")

    (frame,) = page.iframes
    assert frame["title"] == "Socle — Parcours socle commun"
    assert query_of(str(frame["src"]))["target"] == "iframe"
    assert str(frame["src"]).startswith(f"/activities/{activity_id}/launch?")
    (new_window,) = [link for link in page.links if link.get("target") == "_blank"]
    assert query_of(str(new_window["href"]))["target"] == "window"
    assert new_window["rel"] == "noopener"


def test_deep_link_page_embeds_the_deep_linking_launch(client: FlaskClient) -> None:
    page, text = _parse(client, "/deep-link?utilisateur=enseignant")

    (frame,) = page.iframes
    assert str(frame["src"]).startswith("/deep-link/launch?")
    assert frame["title"]
    assert "<h1>Ajouter une activité Socle</h1>" in text


def test_course_lists_the_activity_with_its_results_link_for_the_teacher(
    client: FlaskClient, activity_id: str
) -> None:
    _, teacher = _parse(client, "/?utilisateur=enseignant")
    _, agent = _parse(client, "/?utilisateur=agent")

    assert f'data-activity-id="{activity_id}"' in teacher
    assert "Résultats reçus (0)" in teacher
    assert f'data-activity-id="{activity_id}"' in agent
    assert "Résultats reçus" not in agent


def test_return_url_brings_tool_messages_back_escaped(client: FlaskClient) -> None:
    response = client.get("/return?lti_errormsg=<script>alert(1)</script>&lti_msg=Bravo")
    assert response.status_code == 303

    _, text = _parse(client, response.headers["Location"])

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert" not in text
    assert "Message de Socle : Bravo" in text


def test_return_url_inside_the_frame_navigates_the_top_window(client: FlaskClient) -> None:
    response = client.get("/return?lti_msg=Fini", headers={"Sec-Fetch-Dest": "iframe"})
    assert response.status_code == 200
    assert 'target="_top"' in response.get_data(as_text=True)


def test_unknown_activity_is_a_french_404(client: FlaskClient) -> None:
    response = client.get("/activities/nope?utilisateur=agent")
    assert response.status_code == 404
    assert "Activité introuvable" in response.get_data(as_text=True)
