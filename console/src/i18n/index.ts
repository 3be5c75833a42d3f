import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./en";
import zh from "./zh";

export type Lang = "zh" | "en";
const KEY = "kam.lang";

/** The remembered language: the signed-in user's choice, else this browser's last, else zh. */
export function storedLang(user?: string | null): Lang {
  const v = (user && localStorage.getItem(`${KEY}.${user}`)) || localStorage.getItem(KEY);
  return v === "en" ? "en" : "zh";
}

export function rememberLang(lang: Lang, user?: string | null): void {
  localStorage.setItem(KEY, lang);
  if (user) localStorage.setItem(`${KEY}.${user}`, lang);
}

void i18n.use(initReactI18next).init({
  resources: { zh: { translation: zh }, en: { translation: en } },
  lng: storedLang(),
  fallbackLng: "zh",
  interpolation: { escapeValue: false },
  returnNull: false,
  showSupportNotice: false,
});

export default i18n;
