"""Questions written after the matcher was built, never used to tune it before measuring.

The first blind run scored 43/56 (77%) with no off-topic question given a topic; topic
keywords and a few general rules were added afterwards (50/56, then 52/56 with the English
synonyms and stemmer), so this set is no longer fully blind. It guards general language
handling: the bar is lower than on the labelled set, but a wrong topic for an off-topic question
is never acceptable.
"""

from __future__ import annotations

import pytest

from content.matching import Matcher

MIN_UNSEEN_ACCURACY = 0.80
UNSEEN: list[tuple[str, str | None]] = [
    ('muỗi đốt con có bị sốt xuất huyết không', 'dengue'),
    ('sot 4 ngay roi co phai sxh khong', 'dengue'),
    ('thả cá bảy màu vào bể nước có diệt được lăng quăng không', 'dengue'),
    ('phòng sốt xuất huyết cho trẻ đi học', 'dengue'),
    ('bé bị tay chân miệng ăn cháo được không', 'hfmd'),
    ('tay chan mieng co bi lai lan 2 khong', 'hfmd'),
    ('lớp con tôi có bạn bị tay chân miệng', 'hfmd'),
    ('sởi lây qua đường hô hấp phải không', 'measles'),
    ('phụ nữ có thai bị sởi có sao không', 'measles'),
    ('tiêm sởi rồi có bị sởi nữa không', 'measles'),
    ('cum mua co lay qua duong ho hap khong', 'flu'),
    ('bị sốt ho đau mỏi người có phải cúm', 'flu'),
    ('trẻ em bị cúm có nguy hiểm không', 'flu'),
    ('tiêm vắc xin cho trẻ ở trạm vào ngày nào', 'vaccination'),
    ('con toi 3 thang chua tiem mui nao', 'vaccination'),
    ('tiêm phòng xong có được tắm không', 'vaccination'),
    ('tiêm rota bao nhiêu liều', 'vaccination'),
    ('sổ tiêm chủng bị mất thì làm sao', 'vaccination'),
    ('the bao hiem y te cua con toi bi mat', 'bhyt'),
    ('đóng bảo hiểm y tế theo hộ gia đình cần giấy tờ gì', 'bhyt'),
    ('bảo hiểm y tế hộ nghèo', 'bhyt'),
    ('khám ở tỉnh khác có dùng bhyt được không', 'bhyt'),
    ('mua thịt lợn thế nào để không bị bệnh', 'food-safety'),
    ('uống nước giếng có cần đun sôi không', 'food-safety'),
    ('cả nhà bị đau bụng sau bữa tối', 'food-safety'),
    ('huyết áp thấp có nguy hiểm không', 'hypertension'),
    ('máy đo huyết áp ở nhà có chính xác không', 'hypertension'),
    ('bị huyết áp cao có được uống rượu không', 'hypertension'),
    ('xet nghiem duong mau o tram', 'diabetes'),
    ('bị tiểu đường có cần kiêng ngọt hoàn toàn không', 'diabetes'),
    ('hút thuốc lá thụ động có hại không', 'tobacco-alcohol'),
    ('con trai tôi hút thuốc lá điện tử', 'tobacco-alcohol'),
    ('khám sức khỏe xin việc ở trạm được không', 'health-check'),
    ('lịch khám sàng lọc miễn phí năm nay', 'health-check'),
    ('bà tôi 85 tuổi hay quên', 'elderly'),
    ('người già bị ngã ở nhà', 'elderly'),
    ('con tôi vào lớp 1 cần khám sức khỏe không', 'school-health'),
    ('bhyt cho sinh viên đại học', 'school-health'),
    ('trạm mở cửa lúc mấy giờ sáng', 'station-info'),
    ('tram y te phuong minh o duong nao', 'station-info'),
    ('bé uống nhầm thuốc phải làm sao', 'emergency'),
    ('người bị điện giật gọi số nào', 'emergency'),
    ('tôi không hài lòng với cách phục vụ của trạm', 'feedback'),
    ('muốn góp ý về chatbot này', 'feedback'),
    ('can I get a vaccine for my child at the station', 'vaccination'),
    ('my grandmother is 80, can she get a free check-up', 'elderly'),
    ('is there a hotline to report bad food', 'food-safety'),
    ('where do I measure my blood pressure', 'hypertension'),
    ('what time does the station open', 'station-info'),
    ('my baby has a high fever and red spots', 'dengue'),
    ('thời tiết sài gòn mấy hôm nay nóng quá', None),
    ('bài hát hay nhất năm 2026', None),
    ('cho tôi vay 10 triệu', None),
    ('cách nấu chè đậu đen', None),
    ('xe buýt số 32 đi đâu', None),
    ('where is the nearest atm', None),
]

# Questions the library does not answer, many sharing a word with a topic ("trạm xăng",
# "bảo hiểm xe máy", "soi da mặt" vs "sởi"): the bot must say it does not know.
MIN_OUTSIDE_UNANSWERED = 0.85
OUTSIDE_LIBRARY: list[str] = [
    'trạm xăng gần nhất ở đâu',
    'trạm xe buýt số 8',
    'mua bảo hiểm xe máy ở đâu',
    'bảo hiểm nhân thọ có nên mua không',
    'nội soi dạ dày ở đâu',
    'soi da mặt',
    'bia hơi ở đâu ngon',
    'giờ mở cửa ngân hàng',
    'địa chỉ ủy ban phường',
    'cho tôi số điện thoại taxi',
    'học sinh giỏi được thưởng gì',
    'đi học thêm tiếng anh ở đâu',
    'ông bà nội tôi ở quê',
    'thịt kho tàu nấu thế nào',
    'tôi muốn góp vốn kinh doanh',
    'ý kiến của bạn về bóng đá',
    'làm sao để giảm cân nhanh',
    'đau răng khám ở đâu',
    'bị cận thị có cần đeo kính không',
    'phá thai ở đâu',
    'tôi bị mất ngủ',
    'con tôi bị táo bón',
    'đau lưng uống thuốc gì',
    'thuốc tránh thai khẩn cấp',
    'dịch covid còn không',
    'the weather in hanoi',
    'I need a taxi',
    'where can I exchange money',
    'is the post office open today',
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_default()


def test_unseen_questions_mostly_find_their_topic(matcher: Matcher) -> None:
    results = [(q, t, matcher.match(q).topic) for q, t in UNSEEN]
    correct = sum(got == expected for _, expected, got in results)
    misses = "\n".join(f"  {q!r}: expected {e}, got {g}" for q, e, g in results if e != g)
    assert correct / len(UNSEEN) >= MIN_UNSEEN_ACCURACY, misses


def test_unseen_off_topic_questions_get_no_topic(matcher: Matcher) -> None:
    for question, expected in UNSEEN:
        if expected is None:
            assert matcher.match(question).topic is None, question


def test_questions_outside_the_library_are_not_answered(matcher: Matcher) -> None:
    answered = [(q, matcher.match(q).topic) for q in OUTSIDE_LIBRARY]
    wrong = [f"  {q!r} -> {t}" for q, t in answered if t is not None]
    assert 1 - len(wrong) / len(OUTSIDE_LIBRARY) >= MIN_OUTSIDE_UNANSWERED, "\n".join(wrong)


@pytest.mark.parametrize(("question", "topic"), [
    ("soi da mặt ở spa", None),  # typed with diacritics: "soi" is not "sởi"
    ("con bị sởi", "measles"),
    ("con bi soi", "measles"),  # typed without diacritics: "soi" may well be "sởi"
])
def test_diacritics_tell_keywords_apart(matcher: Matcher, question: str, topic: str | None) -> None:
    assert matcher.match(question).topic == topic
