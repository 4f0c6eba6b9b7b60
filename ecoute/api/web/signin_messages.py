"""The sign-in page's words in English and French, its refusals included: a person who
cannot sign in reads why in the page's language."""

from __future__ import annotations

#: key → (English, French)
SIGNIN_WORDS: dict[str, tuple[str, str]] = {
    "signin.title": ("Sign in to ecoute", "Connexion à ecoute"),
    "signin.password": ("With a username", "Avec un identifiant"),
    "signin.username": ("Username", "Identifiant"),
    "signin.password_label": ("Password", "Mot de passe"),
    "signin.key": ("With an API key", "Avec une clé d'API"),
    "signin.key_label": ("API key", "Clé d'API"),
    "signin.key_help": ("The ek_… token an administrator gave you (`ecoute keys create`).",
                        "Le jeton ek_… qu'un administrateur vous a donné (`ecoute keys "
                        "create`)."),
    "signin.locked": ("Too many failed sign-ins for this username or from this address.",
                      "Trop de connexions échouées pour cet identifiant ou depuis cette "
                      "adresse."),
    "signin.retry": ("Try again in {wait} (at {time}). If the password is lost, an "
                     "administrator can set a new one, which also lifts the lock.",
                     "Réessayez dans {wait} (à {time}). Si le mot de passe est perdu, un "
                     "administrateur peut en définir un nouveau, ce qui lève aussi le "
                     "blocage."),
    "signin.wait_seconds": ("{n} seconds", "{n} secondes"),
    "signin.wait_minutes": ("{n} minutes", "{n} minutes"),
    "signin.wrong_password": ("Wrong username or password.",
                              "Identifiant ou mot de passe incorrect."),
    "signin.wrong_password_hint": ("Check both; an administrator can set a new password with "
                                   "`ecoute users password`.",
                                   "Vérifiez les deux ; un administrateur peut définir un "
                                   "nouveau mot de passe avec `ecoute users password`."),
    "signin.unknown_key": ("This API key is unknown or revoked.",
                           "Cette clé d'API est inconnue ou révoquée."),
    "signin.unknown_key_hint": ("Check it, or ask an administrator for a new one.",
                                "Vérifiez-la, ou demandez-en une nouvelle à un "
                                "administrateur."),
    "signin.ingest_key": ("An ingest key only sends feedback and cannot read the dashboard.",
                          "Une clé d'envoi sert seulement à envoyer des retours et ne peut pas "
                          "lire le tableau de bord."),
    "signin.ingest_key_hint": ("Use a viewer, officer or admin key, or a username.",
                               "Utilisez une clé de lecteur, de chargé de qualité ou "
                               "d'administrateur, ou un identifiant."),
    "signin.expired": ("The sign-in form has expired.", "Le formulaire de connexion a expiré."),
    "signin.expired_hint": ("Reload the page and sign in again.",
                            "Rechargez la page et connectez-vous de nouveau."),
    "signin.other_site": ("This form was sent from another site.",
                          "Ce formulaire a été envoyé depuis un autre site."),
    "signin.other_site_hint": ("Open the dashboard itself and sign in from there.",
                               "Ouvrez le tableau de bord lui-même et connectez-vous depuis "
                               "celui-ci."),
}
