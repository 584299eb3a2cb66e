"""The search form's controls written in Python (directory/activities/search_form.py): every
text escaped, the ticked box and the chosen option marked, the count shown only with counts."""

from __future__ import annotations

from directory.activities.search_form import Choice, checkboxes, options


def test_a_checkbox_escapes_its_texts_and_carries_its_state_and_count():
    html = checkboxes(
        [
            Choice("category", 'a"b', "Dans & <b>drama</b>", True, "(3)"),
            Choice("free", 1, "Gratis", False, None),
        ]
    )
    assert html == (
        '<div class="choice"><input type="checkbox" id="category-a&#34;b" name="category" '
        'value="a&#34;b" checked> <label for="category-a&#34;b">Dans &amp; &lt;b&gt;drama&lt;/b&gt;'
        ' <span class="count">(3)</span></label></div>'
        '<div class="choice"><input type="checkbox" id="free-1" name="free" value="1"> '
        '<label for="free-1">Gratis</label></div>'
    )


def test_an_option_escapes_its_texts_and_only_the_chosen_one_is_selected():
    html = options([("a", "Å & <i>"), ("b", "B"), (3, "3 år")], "b")
    assert html == (
        '<option value="a">Å &amp; &lt;i&gt;</option>'
        '<option value="b" selected>B</option>'
        '<option value="3">3 år</option>'
    )
    assert " selected" not in options([(3, "3 år")], None)
