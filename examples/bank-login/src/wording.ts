/**
 * What the banks say, in one place. SOGENET's texts are the bank's own, word for word from its customer guides
 * (« Aide à la connexion SOGENET », the SogeSmart help); the number of failures that locks comes from the
 * verifier's policy, never written twice.
 */
export const SOGENET = {
  wrong: "Identifiant ou mot de passe incorrect.",
  locked: (max: number) =>
    `Votre compte a été bloqué suite à ${max} tentatives de saisie d'un mot de passe erroné`,
  lastTry: "Attention : au prochain mot de passe erroné, votre accès sera bloqué.",
  wrongCurrent: "Veuillez vérifier la saisie de votre mot de passe actuel",
  changeNow: "Pour des mesures de sécurité, nous vous invitons à changer immédiatement votre mot de passe.",
  changedByAdviser:
    "Votre mot de passe a été modifié par l'administrateur du serveur de votre banque. Pour des mesures de sécurité, nous vous invitons à changer immédiatement votre mot de passe.",
  noMenuBeforeChange:
    "Vous ne pouvez accéder aux fonctionnalités du menu tant que vous n'avez pas changé votre mot de passe",
  changed: [
    "Le changement de mot de passe a été enregistré.",
    "Vous pouvez accéder librement aux différents menus SOGENET",
  ],
  keypadExpired: "Le clavier a expiré : saisissez de nouveau votre mot de passe.",
  noPassSecurite:
    "Vos virements se valident avec Pass Sécurité, dans l'application SogeSmart : activez-la d'abord sur votre téléphone.",
} as const;

/** « Pass Sécurité » (SogeSmart's in-app validation of very sensitive operations), on the bank's pages. */
export const PASS_SECURITE = {
  open: "Pass Sécurité : opération à valider",
  waiting: "Ce virement attend encore votre réponse dans l'application SogeSmart.",
  closed: "Ce virement ne peut plus être validé (délai dépassé, annulé ou révoqué) : recommencez-le.",
  cancelled: "Le virement a été annulé.",
} as const;

export const COOPANET = {
  wrong:
    "Code utilisateur ou code Sésame incorrect. Chaque code ne sert qu'une fois : générez-en un nouveau avec le lecteur.",
  locked: (max: number) =>
    `Votre accès Coop@net est bloqué suite à ${max} codes erronés. Contactez votre agence pour le débloquer.`,
  lastTry: "Attention : au prochain code erroné, votre accès sera bloqué.",
  wrongSignature:
    "Code de signature incorrect : vérifiez ce que vous tapez sur le lecteur et signez de nouveau.",
  closed: "Ce virement ne peut plus être signé (délai dépassé ou annulé) : recommencez-le.",
  transferCancelled: "Le virement a été annulé.",
} as const;

export const PROGELIANCE = {
  wrong: "Identifiant ou code secret incorrect.",
  locked: (max: number) =>
    `Votre accès Progéliance Net est bloqué suite à ${max} codes secrets erronés. Contactez votre conseiller.`,
  lastTry: "Attention : au prochain code secret erroné, votre accès sera bloqué.",
} as const;

export const SESSION = {
  notLoggedIn: "Vous n'êtes pas connecté, ou votre session a expiré : connectez-vous.",
  loggedOut: "Vous êtes déconnecté.",
  formExpired: "Votre session a expiré ou le formulaire n'est pas valide : rechargez la page.",
  otherBank: (mine: string, theirs: string) =>
    `Cette page est celle de ${theirs} : vous êtes connecté à ${mine}.`,
  throttled: (seconds: number) =>
    `Trop de tentatives depuis votre connexion : réessayez dans ${seconds} seconde${seconds > 1 ? "s" : ""}.`,
  idleWarning: "Sans action de votre part, vous serez déconnecté dans une minute.",
} as const;

/**
 * The Progéliance Net passerelle, in the leaflet's words (« Accès simplifié au compte de particuliers depuis
 * l'Espace Client Progéliance Net »), word for word where the leaflet has them.
 */
export const PASSERELLE = {
  menuToPerso: "Accéder à votre Espace Client Particuliers",
  menuToPro: "Accéder à votre Espace Client Progéliance Net",
  title: "Accès simplifié au compte de particuliers depuis l'Espace Client Progéliance Net",
  tagline:
    "Passer de votre Espace Client Progéliance Net à votre Espace Client Particuliers Internet sans avoir à ressaisir vos codes d'accès.",
  prerequisites:
    "Vous devez pour cela disposer d'un abonnement Progéliance Net et de votre Espace Client Particuliers Internet actifs ; c'est-à-dire d'avoir, à minima, réalisé une première connexion sur chacun des Espaces Clients.",
  /** The text the customer consents to: its SHA-256 is in the `link-activation` document they approve. */
  consent: [
    "Une fois activée, la passerelle fonctionne dans les deux sens : de votre Espace Client Progéliance Net à votre Espace Client Particuliers Internet, et inversement.",
    "L'activation déclenchera automatiquement le processus de validation des transactions très sensibles, via votre Pass Sécurité PRO, préalablement installé sur votre Appli SG PRO.",
    "Une fois connecté sur votre Espace Client Particuliers Internet, ce seront vos identifiants en tant que Client Particuliers qui vous seront demandés pour valider vos opérations (code secret et / ou téléphone sécurité et / ou validation à l'aide du Pass Sécurité de l'Appli SG).",
    "La fonctionnalité peut être désactivée à tout moment depuis votre Espace Client Progéliance Net. (Depuis le menu Profil → Vos préférences → Préférences d'accès à vos espaces web).",
    "À NOTER ▶ la fonctionnalité est automatiquement désactivée en cas de : réinitialisation du code secret, changement volontaire du code secret par vos soins, changement d'administrateur, ou révocation des transactions par votre conseiller.",
  ],
  agree:
    "J'ai lu ces informations et je consens à l'activation de la passerelle entre mes deux Espaces Clients.",
  mustAgree: "Cochez la case pour donner votre consentement.",
  missing: (space: string) =>
    `Prérequis non rempli : réalisez d'abord une première connexion sur votre ${space}.`,
  noApp:
    "Activez d'abord votre Pass Sécurité PRO (l'application SogeSmart sur votre téléphone) : c'est lui qui valide l'activation.",
  validate: "Validez l'activation dans votre Pass Sécurité PRO",
  waiting: "L'activation attend encore votre validation dans l'application.",
  refused: "L'activation n'a pas été validée : la passerelle reste désactivée.",
  activated: "La passerelle est activée.",
  preferences: "Préférences d'accès à vos espaces web",
  active: "Accès simplifié à votre Espace Client Particuliers : activé.",
  inactive: "Accès simplifié à votre Espace Client Particuliers : désactivé.",
  deactivate: "Désactiver",
  deactivated: "La passerelle est désactivée.",
  /** Why it was switched off, by the grant's reason: the event's type, or the customer's deactivation. */
  reasons: {
    "password-reset": "réinitialisation du code secret",
    "password-change": "changement volontaire du code secret par vos soins",
    "admin-change": "changement d'administrateur",
    "adviser-revocation": "révocation des transactions par votre conseiller",
    "désactivée par le client": "désactivée par vos soins",
  } as Readonly<Record<string, string>>,
  go: "Continuer vers votre Espace Client",
  ticketRefused: {
    invalid: "Ce passage entre vos Espaces Clients n'est pas valable : connectez-vous.",
    expired: "Ce passage entre vos Espaces Clients a expiré : recommencez depuis le menu.",
    audience: "Ce passage était destiné à votre autre Espace Client : connectez-vous.",
    replayed: "Ce passage a déjà servi : recommencez depuis le menu.",
    inactive: "La passerelle entre vos Espaces Clients est désactivée : connectez-vous.",
  },
  stepUp: "Pour valider vos opérations, saisissez vos identifiants de Client Particuliers.",
  stepUpTitle: "Confirmez votre identité",
} as const;
