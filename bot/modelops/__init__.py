"""Model management for the admin editor: train Rasa models in the background, evaluate them on
held-out data, put one in service in the running Rasa server, roll back.

Training. One job at a time runs in a worker thread of the app: ``rasa data validate``, then
``rasa train`` (in the Rasa environment, in its own process group so a cancel stops all of it), then
the evaluation below. The row in ``training_jobs`` is the job's whole state, so the browser polls it
and a restarted app still shows the outcome. A model is named after the fingerprint of its training
inputs (config override included), as ``tagih train`` names it: the same inputs give the same name,
and a job for inputs already trained reuses that model instead of training it again.

Nothing half-written. A job works in ``<models_dir>/.jobs/<id>/`` and moves its model into
``models_dir`` (a rename on the same file system) only after training and evaluation succeeded and
unless it was cancelled, with a copy of its training files in ``<models_dir>/.sources/<name>/``.
A failed, cancelled or interrupted job leaves nothing behind, and the model being served is never
touched by training.

Evaluation. A model cannot be scored on messages it was trained on, so the candidate is measured
by the same configuration trained again on 80% of its NLU examples (``rasa data split nlu``, fixed
seed) and tested on the other 20%. The model put in service is still the one trained on all the
data. The active model is tested on the same 20% for comparison; as it has usually seen many of
those messages in training, the evaluation says how many, and scores the ones it has not seen
separately when there are any.

Activation. ``PUT /model`` on the Rasa server, through the app's :class:`RasaClient`, which holds
new debtor turns while the model loads and lets the ones under way finish first (see
``bot.dialogue.rasa_client``). Each activation is recorded in ``model_activations``; the newest is
the model ``tagih serve`` starts Rasa with, and :meth:`ModelManager.rollback` goes back one step.

Modules: ``manager`` (the :class:`ModelManager` callers hold, wiring the rest), ``store`` (the model
files and work directories on disk), ``jobs`` (the ``training_jobs`` rows and the runners that own
them), ``worker`` (the thread and queue that run one job at a time), ``runs`` (running the rasa
command line for a job), ``training`` (validate, train, publish), ``evaluation`` (the held-out
scores), ``activation`` (which model Rasa serves) and ``views`` (what the admin pages and API read).
"""
