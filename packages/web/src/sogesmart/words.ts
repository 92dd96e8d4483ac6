/**
 * What the SogeSmart app says, in one place. The guide's words are kept word for word from « Connexion à
 * SogeSmart » (Société Générale Calédonienne de Banque's tutorial: screens ACCUEIL, ACTIVATION SOGESMART, SMS
 * REÇU, AUTHENTIFICATION, ABONNEMENT, MOT DE PASSE PERDU, and its « AUTRE » section for the two error messages);
 * `GUIDE` holds only those. `APP` holds what the guide does not show and capkit had to write, in its register.
 * The number of failures that blocks comes from the bank's answer, never written here.
 */
export const GUIDE = {
  welcome: "ACCUEIL",
  firstConnection: "Première connexion ?",
  yes: "Oui",
  no: "Non",
  login: "Login",
  password: "Mot de passe",
  submit: "Valider",
  lost: "Mot de passe perdu",
  noDigitalAccess: "Vous ne disposez pas encore d'un accès digital à vos comptes :",
  activateAccount: "Activation du compte",
  connection: "CONNEXION À SOGESMART",
  activationFirst: "ACTIVATION DE L'APPLICATION",
  activationNewVersion: "ACTIVER LA NOUVELLE VERSION DE L'APPLICATION",
  activationAgain: "ACTIVER L'APPLICATION",
  activationSogesmart: "ACTIVATION SOGESMART",
  enterIdentifiant: "Veuillez saisir votre identifiant Sogenet :",
  identifiant: "Identifiant Sogenet (8 chiffres)",
  identifiantWhere:
    "(Cet identifiant est visible sur la première page de votre contrat d'abonnement à Sogenet)",
  noSogenet: "Je ne dispose pas de Sogenet",
  noSogenetHint: "Pas d'abonnement à SogeNet ? Faites la demande directement depuis l'application",
  home: "Retour Accueil",
  smsReceived: "SMS REÇU",
  enterSms: "Saisissez le mot de passe reçu par SMS",
  authentication: "AUTHENTIFICATION",
  firstConnectionNewPassword:
    "S'agissant de votre première connexion à l'application, vous devez saisir un nouveau mot de passe personnel à conserver.",
  currentPassword: "Mot de passe actuel",
  newPassword: "Nouveau mot de passe",
  confirmPassword: "Confirmation du mot de passe",
  subscriptionRequest: "FAIRE UNE DEMANDE D'ABONNEMENT",
  subscription: "ABONNEMENT",
  fillForm: "Remplissez le formulaire pour accéder à l'application Sogesmart",
  firstName: "Prénom",
  lastName: "Nom",
  birthDate: "Date de naissance",
  email: "Adresse mail",
  account: "N° de compte",
  conditions: "Conditions générales d'utilisation Sogesmart (PDF)",
  acceptConditions: "Accepter les conditions",
  refuseConditions: "Refuser les conditions",
  passwordLost: "MOT DE PASSE PERDU",
  resetPassword: "Pour réinitialiser votre mot de passe, veuillez saisir votre identifiant Sogenet :",
  unavailable: "Le serveur Sogesmart est actuellement indisponible, veuillez réessayer ultérieurement",
  blocked: (max: number) =>
    `Votre compte a été bloqué suite à ${max} tentatives de saisie d'un mot de passe erroné`,
} as const;

/** capkit's own words, where the guide shows no text (same register as the bank's SOGENET pages). */
export const APP = {
  back: "Retour",
  wrong: "Identifiant ou mot de passe incorrect.",
  lastTry: "Attention : au prochain mot de passe erroné, votre accès sera bloqué.",
  currentPasswordHint: "(votre mot de passe Sogenet)",
  smsCode: "Mot de passe reçu par SMS",
  codesWrong:
    "Le mot de passe reçu par SMS ou votre mot de passe actuel est erroné : vérifiez-les et validez de nouveau.",
  codeDead: "Ce mot de passe reçu par SMS n'est plus valable : demandez-en un nouveau.",
  activated: "Votre application est activée : connectez-vous avec votre nouveau mot de passe.",
  loggedOut: "Vous êtes déconnecté.",
  accounts: "CONSULTATION DES COMPTES",
  welcomeName: (name: string) => `Bonjour ${name}, vous êtes connecté à SogeSmart.`,
  settings: "Paramétrages",
  settingsHeading: "PARAMÉTRAGES",
  changePassword: "Modifier le mot de passe",
  changed: "Le changement de mot de passe a été enregistré.",
  logout: "Se déconnecter",
  scan: "Activer avec le QR code de Sogenet",
  qrHeading: "ACTIVATION PAR QR CODE",
  qrHelp:
    "Dans votre espace Sogenet, choisissez « Activer SogeSmart sur mon téléphone » et scannez le QR code affiché.",
  qrContent: "Contenu du QR code scanné",
  qrInvalid: "Ce QR code n'est pas celui de l'activation SogeSmart.",
  reactivate: "Activer l'application",
  subscribed:
    "Votre demande d'abonnement a été transmise. Votre conseiller vous contactera pour signer votre contrat.",
  conditionsRefused:
    "Vous avez refusé les conditions d'utilisation : votre demande d'abonnement n'a pas été envoyée.",
  busy: "Connexion au serveur Sogesmart…",
  otherUser: "Cette application est activée pour un autre identifiant : utilisez « Activation du compte ».",
  notActivated: "Cette application n'est pas encore activée : utilisez « Activation du compte ».",
  identifiantFormat: "L'identifiant Sogenet comporte 8 chiffres.",
  passwordFormat: "Le mot de passe comporte 6 chiffres.",
  smsFormat: "Le mot de passe reçu par SMS comporte 8 chiffres.",
  confirmMismatch: "La confirmation ne correspond pas au nouveau mot de passe.",
  sameAsCurrent: "Le nouveau mot de passe doit être différent de l'actuel.",
  required: (label: string) => `Veuillez renseigner le champ « ${label} ».`,
  emailFormat: "L'adresse mail n'est pas valide.",
  accountFormat: "Le N° de compte comporte 11 chiffres.",
  throttled: (seconds: number) =>
    `Trop de tentatives : réessayez dans ${seconds} seconde${seconds > 1 ? "s" : ""}.`,
  rateLimited: (seconds: number) =>
    `Un mot de passe vient de vous être envoyé par SMS : vous pourrez en demander un autre dans ${Math.ceil(seconds / 60)} minute${seconds > 60 ? "s" : ""}.`,
  versionUnsupported:
    "Cette version de l'application n'est plus acceptée : installez la nouvelle version de SogeSmart.",
  inProgress: (seconds: number) =>
    `Votre demande précédente est encore en cours de traitement : réessayez dans ${seconds} seconde${seconds > 1 ? "s" : ""}.`,
  refused: "Votre demande n'a pas pu être traitée.",
  // « Pass Sécurité » (Société Générale's name for the app's validation of very sensitive operations).
  passSecurite: "Pass Sécurité : opération à valider",
  passSecuriteHeading: "PASS SÉCURITÉ",
  passSecuriteProHeading: "PASS SÉCURITÉ PRO",
  reviewHelp:
    "Vérifiez l'opération, affichée telle que votre banque l'a signée. Validez-la avec votre mot de passe, ou refusez-la.",
  accept: "Valider l'opération",
  decline: "Refuser l'opération",
  noOperation: "Aucune opération n'attend votre validation.",
  approved: "Opération validée : votre banque l'exécute et vous en remet le reçu signé.",
  declined: "Opération refusée : elle ne sera pas exécutée.",
  closed: "Cette opération ne peut plus être validée (délai dépassé, annulée ou révoquée).",
  operationChanged:
    "Cette opération a changé depuis que vous l'avez vue : votre réponse n'a pas été prise en compte.",
  forged: "Cette opération n'est pas signée par votre banque : elle n'est pas affichée.",
  unsafeName:
    "Le nom du bénéficiaire de cette opération contient un caractère qui ne s'affiche pas tel quel : elle n'est pas affichée.",
  /** Why the bank asks this device to be activated again, by the reason it gives (after the device's proof). */
  reactivation: {
    replaced:
      "Votre accès SogeSmart a été activé sur un autre appareil : activez de nouveau l'application pour l'utiliser ici.",
    superseded:
      "Votre accès SogeSmart a été activé sur un autre appareil : activez de nouveau l'application pour l'utiliser ici.",
    "password-reset":
      "Votre mot de passe a été réinitialisé (« Mot de passe perdu ») : activez de nouveau l'application.",
    "app-version":
      "La nouvelle version de SogeSmart oblige à recevoir un nouveau mot de passe par SMS : activez l'application.",
    other: "Votre accès SogeSmart doit être réactivé : activez de nouveau l'application.",
  } as Readonly<Record<string, string>>,
} as const;
